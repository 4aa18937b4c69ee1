// A staff member's browser, under Node: pusher-js signed in through the WAXOS API, following channels with
// the client package (@waxos/realtime), in the workspace's presence channel. Driven over stdin/stdout.
//
// argv[2] is JSON: {key, host, port, apiBase, token, follow: [channel, ...], presence?: channel}
// stdout lines (JSON), each with `kind`:
//   state {current}            connection state changes          connected {socket_id}
//   signed_in                  pusher:signin_success             error {code, message}  (pusher:error)
//   live {channel, type, seq}  an event as Pusher delivered it   applied {channel, type, seq, data}  (helper)
//   catchup {channel, after, status, seqs}                       subscribed {channel, members?}
//   subscription_error {channel, status}                         member_added / member_removed {channel, user_id}
// stdin lines (JSON): {"op": "disconnect"} {"op": "connect"} {"op": "subscribe", "channel"} {"op": "exit"}
import { createInterface } from "node:readline";

import Pusher from "pusher-js";

import { followChannel } from "@waxos/realtime";

const options = JSON.parse(process.argv[2]);
const say = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);
const headers = { Authorization: `Bearer ${options.token}` };

const pusher = new Pusher(options.key, {
  cluster: "local",
  wsHost: options.host,
  wsPort: options.port,
  forceTLS: false,
  enabledTransports: ["ws"],
  disableStats: true,
  channelAuthorization: { endpoint: `${options.apiBase}/api/v1/pusher/auth`, transport: "ajax", headers },
  userAuthentication: { endpoint: `${options.apiBase}/api/v1/pusher/user-auth`, transport: "ajax", headers },
});
pusher.connection.bind("state_change", ({ current }) => say({ kind: "state", current }));
pusher.connection.bind("connected", () => say({ kind: "connected", socket_id: pusher.connection.socket_id }));
pusher.connection.bind("error", (error) => {
  const data = error?.data ?? error?.error?.data ?? {};
  say({ kind: "error", code: data.code ?? null, message: data.message ?? String(error?.type ?? error) });
});
pusher.bind("pusher:signin_success", () => say({ kind: "signed_in" }));
pusher.signin();

function watch(channel, subscription) {
  subscription.bind("pusher:subscription_succeeded", (members) => {
    const line = { kind: "subscribed", channel };
    if (channel.startsWith("presence-")) line.members = Object.keys(members.members).sort();
    say(line);
  });
  subscription.bind("pusher:subscription_error", (error) => say({ kind: "subscription_error", channel, status: error.status }));
  subscription.bind("pusher:member_added", (m) => say({ kind: "member_added", channel, user_id: m.id }));
  subscription.bind("pusher:member_removed", (m) => say({ kind: "member_removed", channel, user_id: m.id }));
  subscription.bind_global((name, data) => {
    if (!name.startsWith("pusher")) say({ kind: "live", channel, type: name, seq: data?.seq });
  });
}

function follow(channel) {
  const fetchImpl = async (url, init) => {
    const response = await fetch(url, init);
    const body = await response.clone().json().catch(() => ({}));
    const after = Number(new URL(url).searchParams.get("after"));
    say({ kind: "catchup", channel, after, status: response.status, seqs: (body.events ?? []).map((e) => e.seq) });
    return response;
  };
  followChannel(pusher, channel, {
    baseUrl: options.apiBase,
    token: options.token,
    fetchImpl,
    gapWaitMs: 300,
    onEvent: (e) => say({ kind: "applied", channel, type: e.type, seq: e.seq, data: e.data }),
    onResync: ({ head, reason }) => say({ kind: "resync", channel, head, reason }),
    onError: (error) => say({ kind: "follow_error", channel, message: String(error) }),
  });
  watch(channel, pusher.channel(channel));
}

for (const channel of options.follow ?? []) follow(channel);
if (options.presence) watch(options.presence, pusher.subscribe(options.presence));

createInterface({ input: process.stdin }).on("line", (line) => {
  const command = JSON.parse(line);
  if (command.op === "disconnect") pusher.disconnect();
  else if (command.op === "connect") pusher.connect();
  else if (command.op === "subscribe") watch(command.channel, pusher.subscribe(command.channel));
  else if (command.op === "exit") {
    pusher.disconnect();
    process.exit(0);
  }
});
