// Publishes through the official Node server SDK (`pusher` on npm), as a backend would.
// Usage: node publisher.js '<json>' where json = {appId, key, secret, host, port,
//   encryptionMasterKeyBase64?, actions: [{op, ...}]}. Each action's result is one JSON line:
//   {"op":…, "status": <http status>, "body": <parsed body>} or {"op":…, "error": …, "status"?: …}.
// Ops: trigger {channel|channels, event, data, socketId?}, triggerBatch {batch},
//   sendToUser {userId, event, data}, terminateUserConnections {userId}, get {path, params?}.
"use strict";

const Pusher = require("pusher");

const options = JSON.parse(process.argv[2]);
const pusher = new Pusher({
  appId: String(options.appId),
  key: options.key,
  secret: options.secret,
  host: options.host,
  port: String(options.port),
  useTLS: false,
  encryptionMasterKeyBase64: options.encryptionMasterKeyBase64,
});

function call(action) {
  switch (action.op) {
    case "trigger": {
      const params = action.socketId ? { socket_id: action.socketId } : undefined;
      return pusher.trigger(action.channels || action.channel, action.event, action.data, params);
    }
    case "triggerBatch":
      return pusher.triggerBatch(action.batch);
    case "sendToUser":
      return pusher.sendToUser(action.userId, action.event, action.data);
    case "terminateUserConnections":
      return pusher.terminateUserConnections(action.userId);
    case "get":
      return pusher.get({ path: action.path, params: action.params || {} });
    default:
      throw new Error(`unknown op ${action.op}`);
  }
}

async function main() {
  for (const action of options.actions) {
    try {
      const response = await call(action);
      const text = await response.text();
      process.stdout.write(JSON.stringify({ op: action.op, status: response.status, body: JSON.parse(text) }) + "\n");
    } catch (error) {
      process.stdout.write(
        JSON.stringify({ op: action.op, status: error.status, error: String(error.body || error.message) }) + "\n",
      );
    }
  }
}

main();
