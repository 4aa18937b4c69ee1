// @waxos/realtime: follow WAXOS channels from a browser (or Node) and never miss, duplicate or reorder an
// event, whether Pusher is up, down, or replaced by the secondary provider. See docs/client.md.
import Pusher from "pusher-js";

import { Realtime } from "./realtime.js";

/**
 * Connect to WAXOS real-time delivery: {baseUrl, token, onEvent, onResync, onState, onError, ...tuning}.
 * Returns a Realtime; call `.follow(channel, handlers)` for each channel, `.close()` when done.
 */
export function connect(options) {
  return new Realtime(options?.Pusher ?? Pusher, options);
}

export { DEFAULTS, Realtime } from "./realtime.js";
export {
  ChannelFollower,
  DEFAULT_GAP_WAIT_MS,
  DEFAULT_PAGE_LIMIT,
  ResyncRequired,
  fetchCatchUpPage,
  followChannel,
} from "./follower.js";
export { HttpError, NetworkError } from "./http.js";
export { PollSchedule } from "./schedule.js";
