// follower.js: apply a WAXOS channel's events exactly once, in order, whatever path they come by.
//
// Every event WAXOS publishes carries `seq`, gapless per channel from 1. `ChannelFollower` applies events
// in `seq` order exactly once: it drops duplicates, holds early arrivals until the gap before them is
// filled, and fills gaps from catch-up when a gap does not close by itself. If the server no longer holds
// the missing events it answers resync_required; the follower then calls `onResync` so the app reloads
// its state, and continues from the channel's head. Live events (pusher-js) and polled pages go through
// the same follower, so the app sees one stream either way. `followChannel` wires one follower to a
// pusher-js instance the app manages itself; `connect()` (realtime.js) manages everything.
// No dependencies: runs in browsers and under Node 18+.

export const DEFAULT_GAP_WAIT_MS = 2000;
export const DEFAULT_PAGE_LIMIT = 500;
// A failed catch-up (network error, 5xx, 503 while the database restarts) is retried after this delay,
// doubling up to the maximum: the channel may be behind and no live event may come to reveal it.
export const DEFAULT_RETRY_MS = 1000;
export const MAX_RETRY_MS = 30000;

/** The server no longer holds the events after a position (or the position is beyond its head). */
export class ResyncRequired extends Error {
  constructor(channel, head, reason) {
    super(`resync required on ${channel}: ${reason}`);
    this.name = "ResyncRequired";
    this.channel = channel;
    this.head = head;
    this.reason = reason;
  }
}

/**
 * Fetch one catch-up page: {channel, events, next_after, head}; throws ResyncRequired on 410.
 * `token` is a bearer token or a function returning one (or a promise of one).
 */
export async function fetchCatchUpPage({ baseUrl, token, channel, after, limit = DEFAULT_PAGE_LIMIT, fetchImpl }) {
  const doFetch = fetchImpl ?? globalThis.fetch;
  const url = new URL("/api/v1/realtime/events", baseUrl);
  url.searchParams.set("channel", channel);
  url.searchParams.set("after", String(after));
  url.searchParams.set("limit", String(limit));
  const bearer = typeof token === "function" ? await token() : token;
  const response = await doFetch(url, { headers: bearer ? { Authorization: `Bearer ${bearer}` } : {} });
  const body = await response.json().catch(() => ({}));
  if (response.status === 410 && body.code === "resync_required") {
    throw new ResyncRequired(channel, body.head, body.reason);
  }
  if (!response.ok) {
    throw new Error(`catch-up of ${channel} failed: HTTP ${response.status} ${body.code ?? ""}`.trim());
  }
  return body;
}

/**
 * The ordering and deduplication state of one channel, independent of pusher-js (so it is testable).
 *
 * options: channel, fetchPage(after) -> page, onEvent(envelope), onResync({channel, head, reason}),
 *          lastSeq (the last seq the app already applied; 0 for none), gapWaitMs, onError(error).
 */
export class ChannelFollower {
  constructor({
    channel,
    fetchPage,
    onEvent,
    onResync,
    lastSeq = 0,
    gapWaitMs = DEFAULT_GAP_WAIT_MS,
    retryMs = DEFAULT_RETRY_MS,
    onError,
  }) {
    this.channel = channel;
    this.lastSeq = lastSeq;
    this.fetchPage = fetchPage;
    this.onEvent = onEvent;
    this.onResync = onResync ?? (() => {});
    this.onError = onError ?? ((error) => console.error("waxos-realtime:", error));
    this.gapWaitMs = gapWaitMs;
    this.retryMs = retryMs;
    this._nextRetryMs = retryMs;
    this._retryTimer = null;
    this.buffer = new Map(); // seq -> envelope that arrived before the one it follows
    this._sources = new Map(); // seq -> how a buffered envelope arrived
    this.duplicates = 0;
    this._gapTimer = null;
    this._catchingUp = null; // the running catch-up, if any
    this._again = false; // someone asked for catch-up while one was running
    this._stopped = false;
  }

  /**
   * An event (any object with `seq`; others are ignored) and how it came: `source` is "live" (Pusher),
   * "catchup" or "poll" (a catch-up page: overlaps with live delivery are expected there, not counted as
   * duplicates). The app's `onEvent(envelope, {source})` is told the same.
   */
  receive(envelope, { source = "live" } = {}) {
    if (this._stopped || !envelope || envelope.channel !== this.channel || !Number.isInteger(envelope.seq)) {
      return;
    }
    if (envelope.seq <= this.lastSeq || this.buffer.has(envelope.seq)) {
      if (source === "live") this.duplicates += 1;
      return;
    }
    if (envelope.seq === this.lastSeq + 1) {
      this._apply(envelope, source);
      return;
    }
    // A gap: usually the missing event is just behind; if it is not here soon, fetch it.
    this.buffer.set(envelope.seq, envelope);
    this._sources.set(envelope.seq, source);
    if (this._gapTimer === null && !this._catchingUp) {
      this._gapTimer = setTimeout(() => {
        this._gapTimer = null;
        this.catchUp();
      }, this.gapWaitMs);
    }
  }

  /** Fetch everything after `lastSeq` up to the head; concurrent calls merge into one more pass. */
  catchUp() {
    if (this._catchingUp) {
      this._again = true;
      return this._catchingUp;
    }
    this._catchingUp = (async () => {
      try {
        do {
          this._again = false;
          await this._catchUpOnce();
        } while (this._again && !this._stopped);
        this._nextRetryMs = this.retryMs;
      } catch (error) {
        this.onError(error);
        this._scheduleRetry();
      } finally {
        this._catchingUp = null;
        // Events that arrived past a gap after the last page was read: give them the usual grace.
        if (this.buffer.size > 0 && this._gapTimer === null && !this._stopped) {
          this._gapTimer = setTimeout(() => {
            this._gapTimer = null;
            this.catchUp();
          }, this.gapWaitMs);
        }
      }
    })();
    return this._catchingUp;
  }

  /**
   * The server answered resync_required for this channel outside `catchUp` (a poll): let the app reload,
   * then continue from `head`. Resolves once the app's `onResync` has.
   */
  async resync({ head, reason }) {
    if (this._stopped) return;
    await this._resync({ head, reason });
  }

  /** Stop applying events and cancel timers (after unsubscribing). */
  stop() {
    this._stopped = true;
    this._clearGapTimer();
    if (this._retryTimer !== null) clearTimeout(this._retryTimer);
    this._retryTimer = null;
  }

  _scheduleRetry() {
    if (this._stopped || this._retryTimer !== null) return;
    const delay = this._nextRetryMs;
    this._nextRetryMs = Math.min(this._nextRetryMs * 2, MAX_RETRY_MS);
    this._retryTimer = setTimeout(() => {
      this._retryTimer = null;
      this.catchUp();
    }, delay);
  }

  async _catchUpOnce() {
    for (;;) {
      let page;
      try {
        page = await this.fetchPage(this.lastSeq);
      } catch (error) {
        if (!(error instanceof ResyncRequired)) throw error;
        await this._resync(error);
        return;
      }
      for (const envelope of page.events) {
        if (envelope.seq === this.lastSeq + 1) this._apply(envelope, "catchup");
        else if (envelope.seq > this.lastSeq) throw new Error(`catch-up page skipped to seq ${envelope.seq}`);
      }
      if (page.next_after >= page.head || page.events.length === 0) return;
    }
  }

  async _resync(error) {
    await this.onResync({ channel: this.channel, head: error.head, reason: error.reason });
    const head = error.head ?? this.lastSeq;
    if (error.reason === "ahead_of_head") {
      // The server's log is behind us (a database restore): it will number new events from head + 1,
      // so what we applied or held beyond head says nothing about them. Start again from head.
      this.lastSeq = head;
      this.buffer.clear();
      this._sources.clear();
    } else {
      // The app reloaded its state as of `head`; continue from there, keeping later live events.
      this.lastSeq = Math.max(this.lastSeq, head);
      for (const seq of [...this.buffer.keys()]) {
        if (seq <= this.lastSeq) {
          this.buffer.delete(seq);
          this._sources.delete(seq);
        }
      }
    }
    this._drain();
    // Events committed after the reload may already be in the log: fetch them in one more pass.
    this._again = true;
  }

  _apply(envelope, source) {
    this.lastSeq = envelope.seq;
    this.buffer.delete(envelope.seq);
    this._sources.delete(envelope.seq);
    try {
      this.onEvent(envelope, { source });
    } catch (error) {
      this.onError(error);
    }
    this._drain();
  }

  _drain() {
    let next = this.buffer.get(this.lastSeq + 1);
    while (next !== undefined) {
      const source = this._sources.get(next.seq) ?? "live";
      this.buffer.delete(next.seq);
      this._sources.delete(next.seq);
      this.lastSeq = next.seq;
      try {
        this.onEvent(next, { source });
      } catch (error) {
        this.onError(error);
      }
      next = this.buffer.get(this.lastSeq + 1);
    }
    if (this.buffer.size === 0) this._clearGapTimer();
  }

  _clearGapTimer() {
    if (this._gapTimer !== null) {
      clearTimeout(this._gapTimer);
      this._gapTimer = null;
    }
  }
}

/**
 * Subscribe `pusher` (a pusher-js instance) to `channel` and deliver its events in order, exactly once.
 *
 * options: baseUrl and token (for catch-up), onEvent, onResync, lastSeq, gapWaitMs, fetchImpl, onError.
 * Returns the ChannelFollower plus `unsubscribe()`.
 */
export function followChannel(pusher, channel, options) {
  const follower = new ChannelFollower({
    channel,
    lastSeq: options.lastSeq ?? 0,
    gapWaitMs: options.gapWaitMs,
    onEvent: options.onEvent,
    onResync: options.onResync,
    onError: options.onError,
    fetchPage: (after) =>
      fetchCatchUpPage({
        baseUrl: options.baseUrl,
        token: options.token,
        channel,
        after,
        fetchImpl: options.fetchImpl,
      }),
  });
  const subscription = pusher.subscribe(channel);
  const onLive = (eventName, data) => {
    if (!eventName.startsWith("pusher:") && !eventName.startsWith("pusher_internal:")) follower.receive(data);
  };
  // Pusher re-sends subscription_succeeded after every reconnection: each one is a chance we missed events.
  const onSubscribed = () => follower.catchUp();
  subscription.bind_global(onLive);
  subscription.bind("pusher:subscription_succeeded", onSubscribed);
  if (subscription.subscribed) follower.catchUp();
  return Object.assign(follower, {
    unsubscribe() {
      follower.stop();
      subscription.unbind_global(onLive);
      subscription.unbind("pusher:subscription_succeeded", onSubscribed);
      pusher.unsubscribe(channel);
    },
  });
}
