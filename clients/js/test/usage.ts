// Type-checked by `npm run typecheck` (tsc --strict): how an app uses the package, per docs/client.md.
import { connect, type Envelope, type State } from "@waxos/realtime";

const states: State[] = [];
const realtime = connect({
  baseUrl: "https://api.example.com",
  token: async () => "access-token",
  onEvent: (envelope: Envelope) => console.log(envelope.type, envelope.seq, envelope.data),
  onResync: async ({ channel, head }) => console.log(`reload ${channel} as of ${head}`),
  onState: (state, { previous, epoch }) => states.push(state) && console.log(previous, epoch),
  pollMs: 5000,
  pusherOptions: { activityTimeout: 30000 },
});
const chats = realtime.follow("private-workspace-1.chats", { lastSeq: 41, onDenied: (reason) => console.log(reason) });
const seq: number = chats.lastSeq;
void chats.catchUp();
chats.unfollow();
realtime.close();
console.log(seq, realtime.state satisfies State);
