// A pusher-js subscriber for the event-log end-to-end tests, driven over stdin/stdout with JSON lines.
//
// argv[2] is JSON: {key, host, port, channels, apiBase?, token?, secret?}.
//   With apiBase + token: channels are authorized by the WAXOS API and followed with the client package (@waxos/realtime)
//   (catch-up on every subscription). With secret instead: auth is signed here and only live events are
//   reported (to observe exactly what the relay delivered, with nothing filled in by catch-up).
// stdout lines: {"kind": "subscribed"|"live"|"applied"|"catchup"|"resync"|"state"|"error", ...}
// stdin lines: "disconnect", "connect", "exit".
import { createHmac } from "node:crypto";
import { createInterface } from "node:readline";

import Pusher from "pusher-js";

import { followChannel } from "@waxos/realtime";

const options = JSON.parse(process.argv[2]);
const say = (line) =>
  process.stdout.write(`${JSON.stringify({ at: performance.now(), wall: performance.timeOrigin + performance.now(), ...line })}\n`);

const pusherOptions = {
  cluster: "local",
  wsHost: options.host,
  wsPort: options.port,
  forceTLS: false,
  enabledTransports: ["ws"],
  disableStats: true,
};
if (options.apiBase) {
  pusherOptions.channelAuthorization = {
    endpoint: `${options.apiBase}/api/v1/pusher/auth`,
    transport: "ajax",
    headers: { Authorization: `Bearer ${options.token}` },
  };
} else {
  pusherOptions.channelAuthorization = {
    customHandler: ({ socketId, channelName }, callback) => {
      const signature = createHmac("sha256", options.secret).update(`${socketId}:${channelName}`).digest("hex");
      callback(null, { auth: `${options.key}:${signature}` });
    },
  };
}

const pusher = new Pusher(options.key, pusherOptions);
pusher.connection.bind("state_change", ({ previous, current }) => say({ kind: "state", previous, current }));

for (const channel of options.channels) {
  if (options.apiBase) {
    const fetchImpl = async (url, init) => {
      const response = await fetch(url, init);
      const copy = response.clone();
      const body = await copy.json().catch(() => ({}));
      say({
        kind: "catchup",
        channel,
        after: Number(new URL(url).searchParams.get("after")),
        status: response.status,
        seqs: (body.events ?? []).map((e) => e.seq),
      });
      return response;
    };
    followChannel(pusher, channel, {
      baseUrl: options.apiBase,
      token: options.token,
      fetchImpl,
      gapWaitMs: 500,
      onEvent: (e) => say({ kind: "applied", channel, seq: e.seq, id: e.id, type: e.type }),
      onResync: ({ head, reason }) => say({ kind: "resync", channel, head, reason }),
      onError: (error) => say({ kind: "error", channel, message: String(error) }),
    });
  }
  const subscription = pusher.subscribe(channel);
  subscription.bind("pusher:subscription_succeeded", () => say({ kind: "subscribed", channel }));
  subscription.bind("pusher:subscription_error", (error) => say({ kind: "error", channel, message: error }));
  subscription.bind_global((name, data) => {
    if (!name.startsWith("pusher")) say({ kind: "live", channel, seq: data.seq, id: data.id, name });
  });
}

createInterface({ input: process.stdin }).on("line", (line) => {
  const command = line.trim();
  if (command === "disconnect") pusher.disconnect();
  else if (command === "connect") pusher.connect();
  else if (command === "exit") {
    pusher.disconnect();
    process.exit(0);
  }
});
