// A client built with the package's connect(), driven over stdin/stdout with JSON lines (tests/e2e).
//
// argv[2] is JSON: {baseUrl, token, channels, options?} (options: connect() tuning, e.g. pollMs).
// stdout lines: {"kind": "state"|"applied"|"resync"|"denied"|"error", "at": ms since start, "wall": ms since 1970, ...}
// stdin lines: "exit".
import { createInterface } from "node:readline";

import { connect } from "@waxos/realtime";

const { baseUrl, token, channels, options = {} } = JSON.parse(process.argv[2]);
const say = (line) => process.stdout.write(`${JSON.stringify({ at: performance.now(), wall: Date.now(), ...line })}\n`);

const realtime = connect({
  baseUrl,
  token,
  ...options,
  onEvent: (e) => say({ kind: "applied", channel: e.channel, seq: e.seq, id: e.id }),
  onResync: ({ channel, head, reason }) => say({ kind: "resync", channel, head, reason }),
  onState: (state, { previous, epoch, provider }) => say({ kind: "state", state, previous, epoch, provider }),
  onError: (error, channel) => say({ kind: "error", channel, message: String(error) }),
});
for (const channel of channels) {
  realtime.follow(channel, { onDenied: (reason) => say({ kind: "denied", channel, reason }) });
}

createInterface({ input: process.stdin }).on("line", (line) => {
  if (line.trim() === "exit") {
    realtime.close();
    process.exit(0);
  }
});
