// A pusher-js client driven by tests: options as one JSON argument, commands as JSON lines on
// stdin, everything it observes as JSON lines on stdout.
//
// Options (all optional except key/host/port):
//   key, host, port, cluster          where to connect (forceTLS off, ws transport only)
//   channels: [name, ...]             subscribed at start
//   authEndpoint, authHeaders         channel authorization over HTTP (pusher-js `channelAuthorization`),
//                                     e.g. the WAXOS API `POST /api/v1/pusher/auth` with a bearer token
//   userAuthEndpoint, userAuthHeaders user sign-in over HTTP (pusher-js `userAuthentication`)
//   localAuth: {appId, secret, encryptionMasterKeyBase64?, presence?: {user_id, user_info}, user?: {id, user_info}}
//                                     sign locally with the official Node SDK instead of an endpoint
//   signin: true                      call pusher.signin() once connected
//   activityTimeout, pongTimeout      pusher-js timers, ms
//   bindEvents: [event, ...]          also report these with their metadata (`user_id`) as "event_meta"
//
// Commands on stdin: {"op":"subscribe","channel":…} {"op":"unsubscribe","channel":…}
//   {"op":"trigger","channel":…,"event":"client-…","data":…} {"op":"signin"} {"op":"disconnect"}
//   {"op":"members","channel":…} {"op":"exit"}
//
// Output lines: {"type":"state","current":…} {"type":"connected","socket_id":…}
//   {"type":"subscribed","channel":…,"members"?:…} {"type":"subscription_error","channel":…,"error":…}
//   {"type":"event","channel":…,"event":…,"data":…} {"type":"event_meta",…,"user_id":…} {"type":"member_added"|"member_removed",…}
//   {"type":"user_event","event":…,"data":…} {"type":"signed_in"} {"type":"error","error":…}
//   {"type":"subscription_count","channel":…,"count":…} (pusher-js's pusher:subscription_count)
"use strict";

const readline = require("readline");
const Pusher = require("pusher-js");
const PusherServer = require("pusher");

const options = JSON.parse(process.argv[2] || "{}");

function emit(message) {
  process.stdout.write(JSON.stringify(message) + "\n");
}

function localAuthorizer(local) {
  const sdk = new PusherServer({
    appId: String(local.appId),
    key: options.key,
    secret: local.secret,
    host: options.host,
    port: String(options.port),
    useTLS: false,
    encryptionMasterKeyBase64: local.encryptionMasterKeyBase64,
  });
  return {
    channel: (params, callback) => {
      const presence = params.channelName.startsWith("presence-") ? local.presence : undefined;
      callback(null, sdk.authorizeChannel(params.socketId, params.channelName, presence));
    },
    user: (params, callback) => {
      callback(null, sdk.authenticateUser(params.socketId, local.user));
    },
  };
}

const config = {
  cluster: options.cluster || "local",
  wsHost: options.host,
  wsPort: options.port,
  forceTLS: false,
  enabledTransports: ["ws"],
  disableStats: true,
};
if (options.activityTimeout) config.activityTimeout = options.activityTimeout;
if (options.pongTimeout) config.pongTimeout = options.pongTimeout;
if (options.localAuth) {
  const local = localAuthorizer(options.localAuth);
  config.channelAuthorization = { customHandler: local.channel };
  config.userAuthentication = { customHandler: local.user };
} else {
  if (options.authEndpoint) {
    config.channelAuthorization = {
      endpoint: options.authEndpoint,
      transport: "ajax",
      headers: options.authHeaders || {},
    };
  }
  if (options.userAuthEndpoint) {
    config.userAuthentication = {
      endpoint: options.userAuthEndpoint,
      transport: "ajax",
      headers: options.userAuthHeaders || {},
    };
  }
}

const pusher = new Pusher(options.key, config);

pusher.connection.bind("state_change", (states) => emit({ type: "state", current: states.current }));
pusher.connection.bind("connected", () => {
  emit({ type: "connected", socket_id: pusher.connection.socket_id });
  if (options.signin) pusher.signin();
});
pusher.connection.bind("error", (error) => emit({ type: "error", error: errorText(error) }));

pusher.user.bind_global((event, data) => {
  if (!event.startsWith("pusher")) emit({ type: "user_event", event, data });
});
pusher.bind("pusher:signin_success", () => emit({ type: "signed_in" }));

function errorText(error) {
  if (!error) return null;
  try {
    return JSON.parse(JSON.stringify(error, Object.getOwnPropertyNames(error)));
  } catch (e) {
    return String(error);
  }
}

function subscribe(name) {
  const channel = pusher.subscribe(name);
  channel.bind("pusher:subscription_succeeded", (members) => {
    const message = { type: "subscribed", channel: name };
    if (name.startsWith("presence-")) {
      message.members = { count: members.count, me: members.me, ids: Object.keys(members.members) };
    }
    emit(message);
  });
  channel.bind("pusher:subscription_error", (error) =>
    emit({ type: "subscription_error", channel: name, error: errorText(error) }),
  );
  channel.bind("pusher:member_added", (member) =>
    emit({ type: "member_added", channel: name, user_id: member.id, user_info: member.info }),
  );
  channel.bind("pusher:member_removed", (member) =>
    emit({ type: "member_removed", channel: name, user_id: member.id }),
  );
  channel.bind("pusher:cache_miss", () => emit({ type: "cache_miss", channel: name }));
  channel.bind("pusher:subscription_count", (data) =>
    emit({ type: "subscription_count", channel: name, count: data.subscription_count }),
  );
  channel.bind_global((event, data) => {
    if (event.startsWith("pusher:") || event.startsWith("pusher_internal:")) return;
    emit({ type: "event", channel: name, event, data });
  });
  // Global callbacks get no metadata, so events named in `bindEvents` are also bound directly to
  // report the sender's `user_id` that presence client events carry.
  for (const event of options.bindEvents || []) {
    channel.bind(event, (data, metadata) =>
      emit({ type: "event_meta", channel: name, event, data, user_id: metadata && metadata.user_id }),
    );
  }
}

for (const name of options.channels || []) subscribe(name);

const commands = readline.createInterface({ input: process.stdin });
commands.on("line", (line) => {
  if (!line.trim()) return;
  const command = JSON.parse(line);
  switch (command.op) {
    case "subscribe":
      subscribe(command.channel);
      break;
    case "unsubscribe":
      pusher.unsubscribe(command.channel);
      emit({ type: "unsubscribed", channel: command.channel });
      break;
    case "trigger": {
      const ok = pusher.channel(command.channel).trigger(command.event, command.data);
      emit({ type: "triggered", channel: command.channel, event: command.event, ok });
      break;
    }
    case "signin":
      pusher.signin();
      break;
    case "members": {
      const members = pusher.channel(command.channel).members;
      emit({ type: "members", channel: command.channel, count: members.count, ids: Object.keys(members.members) });
      break;
    }
    case "disconnect":
      pusher.disconnect();
      break;
    case "exit":
      pusher.disconnect();
      process.exit(0);
  }
});
commands.on("close", () => {
  pusher.disconnect();
  process.exit(0);
});
