// Types of @waxos/realtime (the JavaScript sources are in src/; docs/client.md explains their use).
import type Pusher from "pusher-js";
import type { Options as PusherOptions } from "pusher-js";

/** What WAXOS publishes on every channel: see docs/guarantees.md. */
export interface Envelope<Data = Record<string, unknown>> {
  id: string;
  type: string;
  channel: string;
  seq: number;
  occurred_at: string;
  workspace_id: number | null;
  data: Data;
}

/** `live`: pusher-js delivers; `polling`: the client polls catch-up; `offline`: it cannot reach the API. */
export type State = "connecting" | "live" | "polling" | "offline";

/** How an event reached the app: live from Pusher, from the catch-up after a subscription or a gap, or polled. */
export interface EventSource {
  source: "live" | "catchup" | "poll";
}

export interface StateChange {
  previous: State;
  epoch: number;
  provider?: "primary" | "secondary";
}

/** The log no longer holds what the client missed: reload the channel's state, current as of `head`. */
export interface ResyncInfo {
  channel: string;
  head: number;
  reason: "too_old" | "ahead_of_head" | string;
}

/** A bearer token, or a function returning one (called before every request, so it may refresh). */
export type Token = string | (() => string | Promise<string>);

export interface ConnectOptions {
  /** The WAXOS API's origin, e.g. "https://api.example.com". */
  baseUrl: string | URL;
  token: Token;
  /** Every followed channel's events, each once and in order (unless `follow` got its own). */
  onEvent?: (envelope: Envelope, how: EventSource) => void;
  /** Reload the state a channel feeds; may return a promise, which the client waits for. */
  onResync?: (info: ResyncInfo) => void | Promise<void>;
  onState?: (state: State, change: StateChange) => void;
  onError?: (error: Error, channel?: string) => void;
  /** Not connected this long: poll (default 5000). */
  fallbackAfterMs?: number;
  /** Polling interval, ±20 % jitter (default 5000). */
  pollMs?: number;
  /** Ceiling of the polling delay after errors (default 60000). */
  maxPollMs?: number;
  /** Polling interval while the page is hidden (default 30000). */
  hiddenPollMs?: number;
  /** While live, a catch-up this often (default 60000; 0 disables). */
  liveCheckMs?: number;
  /** On a provider switch, reconnect after a random delay up to this (default 3000). */
  switchDelayMs?: number;
  /** Events per channel per catch-up request (default 500). */
  pageLimit?: number;
  /** How long a gap may stay open before a catch-up (default 2000). */
  gapWaitMs?: number;
  /** Per request (default 10000). */
  timeoutMs?: number;
  /** Extra pusher-js options (e.g. activityTimeout). */
  pusherOptions?: Partial<PusherOptions>;
  /** The pusher-js constructor, if not the bundled one. */
  Pusher?: typeof Pusher;
  fetch?: typeof fetch;
  random?: () => number;
}

export interface FollowHandlers {
  /** The last seq the app's state already includes (default 0: from the beginning). */
  lastSeq?: number;
  onEvent?: (envelope: Envelope, how: EventSource) => void;
  onResync?: (info: ResyncInfo) => void | Promise<void>;
  /** The channel policy refused this channel (default: onError). The channel is no longer followed. */
  onDenied?: (reason: string) => void;
}

export interface Following {
  readonly channel: string;
  /** What to persist: the last seq applied. */
  readonly lastSeq: number;
  readonly denied: boolean;
  /** Catch up now (e.g. when the tab becomes visible). */
  catchUp(): Promise<void>;
  unfollow(): void;
}

export declare const DEFAULTS: Readonly<Required<Pick<ConnectOptions,
  "fallbackAfterMs" | "pollMs" | "maxPollMs" | "hiddenPollMs" | "liveCheckMs" | "switchDelayMs" | "pageLimit" | "gapWaitMs">>>;

export declare class Realtime {
  constructor(PusherClass: typeof Pusher, options: ConnectOptions);
  readonly state: State;
  /** The active provider's epoch as last seen. */
  readonly epoch: number;
  follow(channel: string, handlers?: FollowHandlers): Following;
  close(): void;
}

export declare function connect(options: ConnectOptions): Realtime;

// The lower-level pieces, for apps that manage pusher-js themselves.

export interface CatchUpPage {
  channel?: string;
  events: Envelope[];
  next_after: number;
  head: number;
}

export declare class ResyncRequired extends Error {
  constructor(channel: string, head: number, reason: string);
  channel: string;
  head: number;
  reason: string;
}

export declare class HttpError extends Error {
  status: number;
  code?: string;
  body: unknown;
  retryAfterMs?: number;
}

export declare class NetworkError extends Error {}

export interface ChannelFollowerOptions {
  channel: string;
  fetchPage: (after: number) => Promise<CatchUpPage>;
  onEvent: (envelope: Envelope, how: EventSource) => void;
  onResync?: (info: ResyncInfo) => void | Promise<void>;
  lastSeq?: number;
  gapWaitMs?: number;
  retryMs?: number;
  onError?: (error: unknown) => void;
}

export declare class ChannelFollower {
  constructor(options: ChannelFollowerOptions);
  readonly channel: string;
  lastSeq: number;
  duplicates: number;
  receive(envelope: unknown, options?: Partial<EventSource>): void;
  catchUp(): Promise<void>;
  resync(info: { head: number; reason: string }): Promise<void>;
  stop(): void;
}

export declare function fetchCatchUpPage(options: {
  baseUrl: string | URL;
  token: Token;
  channel: string;
  after: number;
  limit?: number;
  fetchImpl?: typeof fetch;
}): Promise<CatchUpPage>;

export declare function followChannel(
  pusher: Pusher,
  channel: string,
  options: {
    baseUrl: string | URL;
    token: Token;
    onEvent: (envelope: Envelope, how: EventSource) => void;
    onResync?: (info: ResyncInfo) => void | Promise<void>;
    lastSeq?: number;
    gapWaitMs?: number;
    fetchImpl?: typeof fetch;
    onError?: (error: unknown) => void;
  },
): ChannelFollower & { unsubscribe(): void };

export declare class PollSchedule {
  constructor(options?: { pollMs?: number; maxPollMs?: number; hiddenPollMs?: number; random?: () => number });
  failures: number;
  first(): number;
  next(options?: { hidden?: boolean }): number;
  failed(retryAfterMs?: number): number;
  succeeded(): void;
}

export declare const DEFAULT_GAP_WAIT_MS: number;
export declare const DEFAULT_PAGE_LIMIT: number;
