// realtime.js: one connection to WAXOS real-time delivery that never goes dark.
//
// `new Realtime(Pusher, options)` reads the active provider's settings from GET /api/v1/realtime/config,
// connects pusher-js to it, signs in, and follows channels through one ChannelFollower each, so every
// event reaches the app once, in order. States (onState):
//   connecting  only at the start, before live delivery or polling has been established;
//   live        pusher-js is connected, every followed channel is subscribed, and a catch-up made after
//               those subscriptions succeeded;
//   polling     live delivery is down (pusher-js unavailable, failed, or not connected for
//               `fallbackAfterMs`; a subscription that failed for a reason other than the channel
//               policy; a provider switch in progress): the client polls POST /api/v1/realtime/catch-up
//               for every followed channel in one request, every `pollMs` with jitter;
//   offline     polling cannot reach the API; it keeps trying, backing off to `maxPollMs`.
// Every catch-up answer carries the active provider's epoch. A higher epoch than the client's means the
// service switched provider (D7): the client polls, waits a random moment (so that all clients do not
// reconnect at once), fetches the configuration again and reconnects pusher-js to the new provider; it
// goes live again once subscribed and caught up. A `provider.changed` notice on the public notice
// channel tells live clients the same thing at once.

import { ChannelFollower, DEFAULT_GAP_WAIT_MS, DEFAULT_PAGE_LIMIT, ResyncRequired } from "./follower.js";
import { HttpError, NetworkError, apiRequest } from "./http.js";
import { PollSchedule } from "./schedule.js";

export const DEFAULTS = Object.freeze({
  fallbackAfterMs: 5000,
  pollMs: 5000,
  maxPollMs: 60000,
  hiddenPollMs: 30000,
  liveCheckMs: 60000,
  switchDelayMs: 3000,
  pageLimit: DEFAULT_PAGE_LIMIT,
  gapWaitMs: DEFAULT_GAP_WAIT_MS,
});

const CONFIG_PATH = "/api/v1/realtime/config";
const NOTICE_EVENT = "provider.changed";

/** Something about one followed channel: its follower, handlers, and pusher-js subscription. */
class Followed {
  constructor(channel, handlers, follower) {
    this.channel = channel;
    this.handlers = handlers;
    this.follower = follower;
    this.subscription = null;
    this.subscribed = false;
    // Bumped by every subscription_succeeded; a catch-up sent after it "covers" it (see Realtime._fetch).
    this.generation = 0;
    this.caughtUp = -1;
    this.denied = false;
    // The last subscription failed for a reason other than the policy; a retry is scheduled.
    this.failed = false;
    this.authStatus = 0;
    this.retryTimer = null;
    this.retryMs = 0;
  }
}

export class Realtime {
  constructor(Pusher, options) {
    if (!options?.baseUrl) throw new TypeError("connect() needs baseUrl");
    this.Pusher = Pusher;
    this.options = { ...DEFAULTS, ...options };
    this.state = "connecting";
    this.epoch = 0;
    this.config = null;
    this.pusher = null;
    this.channels = new Map();
    this._random = this.options.random ?? Math.random;
    this._schedule = new PollSchedule({
      pollMs: this.options.pollMs,
      maxPollMs: this.options.maxPollMs,
      hiddenPollMs: this.options.hiddenPollMs,
      random: this._random,
    });
    this._configSchedule = new PollSchedule({ pollMs: 1000, maxPollMs: this.options.maxPollMs, random: this._random });
    this._connected = false;
    this._connectionLost = false; // pusher-js said unavailable or failed: poll now, not after the wait
    this._fallbackTimer = null;
    this._pollTimer = null;
    this._polling = false;
    this._liveCheckTimer = null;
    this._fetching = null;
    this._fetchAgain = false;
    this._switchingTo = 0;
    this._closed = false;
    this._armFallback();
    this._loadConfig();
  }

  // The application's side

  /** Follow `channel`: handlers {onEvent, onResync, onDenied, lastSeq} (onEvent/onResync default to connect's). */
  follow(channel, handlers = {}) {
    if (this.channels.has(channel)) throw new Error(`already following ${channel}`);
    const follower = new ChannelFollower({
      channel,
      lastSeq: handlers.lastSeq ?? 0,
      gapWaitMs: this.options.gapWaitMs,
      onEvent: (envelope, how) => (handlers.onEvent ?? this.options.onEvent)?.(envelope, how),
      onResync: (info) => (handlers.onResync ?? this.options.onResync)?.(info),
      onError: (error) => this._error(error, channel),
      fetchPage: (after) => this._fetchPage(channel, after),
    });
    const entry = new Followed(channel, handlers, follower);
    this.channels.set(channel, entry);
    if (this.pusher) this._subscribe(entry);
    this._evaluate();
    const realtime = this;
    return {
      channel,
      get lastSeq() {
        return follower.lastSeq;
      },
      get denied() {
        return entry.denied;
      },
      catchUp: () => follower.catchUp(),
      unfollow: () => realtime._unfollow(entry),
    };
  }

  /** Stop everything: timers, polling, pusher-js. */
  close() {
    this._closed = true;
    for (const entry of this.channels.values()) this._unfollow(entry);
    for (const timer of [this._fallbackTimer, this._pollTimer, this._liveCheckTimer, this._configTimer]) {
      if (timer) clearTimeout(timer);
    }
    this.pusher?.disconnect();
    this.pusher = null;
  }

  // Configuration and pusher-js

  async _loadConfig() {
    this._configTimer = null;
    if (this._closed) return;
    let config;
    try {
      config = await this._request({ path: CONFIG_PATH });
    } catch (error) {
      this._error(error);
      if (error instanceof NetworkError && this.state !== "connecting") this._setState("offline");
      this._configTimer = setTimeout(() => this._loadConfig(), this._configSchedule.failed(error.retryAfterMs));
      return;
    }
    this._configSchedule.succeeded();
    if (this._closed) return;
    this.config = config;
    this.epoch = Math.max(this.epoch, config.epoch);
    this._switchingTo = 0;
    this._openPusher(config);
  }

  _openPusher(config) {
    const old = this.pusher;
    this.pusher = null;
    if (old) old.disconnect();
    for (const entry of this.channels.values()) {
      entry.subscription = null;
      entry.subscribed = false;
    }
    this._connected = false;
    const options = {
      cluster: config.cluster,
      forceTLS: config.force_tls,
      // WebSocket only: pusher-js's HTTP fallbacks would load scripts from Pusher's CDN.
      enabledTransports: ["ws", "wss"],
      disableStats: true,
      channelAuthorization: { customHandler: (params, callback) => this._authorizeChannel(params, callback) },
      userAuthentication: { customHandler: (params, callback) => this._authorizeUser(params, callback) },
      ...this.options.pusherOptions,
    };
    if (config.ws_host) {
      Object.assign(options, { wsHost: config.ws_host, wsPort: config.ws_port, wssPort: config.ws_port });
    }
    const pusher = new this.Pusher(config.key, options);
    this.pusher = pusher;
    pusher.connection.bind("state_change", ({ current }) => {
      if (this.pusher === pusher) this._onConnectionState(current);
    });
    // D8: signed-in connections can be terminated by the server when membership ends.
    pusher.signin();
    if (config.notice_channel) {
      pusher.subscribe(config.notice_channel).bind(NOTICE_EVENT, (data) => {
        if (this.pusher === pusher && Number.isInteger(data?.epoch)) this._noteEpoch(data.epoch);
      });
    }
    for (const entry of this.channels.values()) if (!entry.denied) this._subscribe(entry);
    this._evaluate();
  }

  _onConnectionState(current) {
    this._connected = current === "connected";
    if (current === "unavailable" || current === "failed") this._connectionLost = true;
    if (this._connected) this._connectionLost = false;
    // pusher-js resubscribes every channel once connected again, each with a new subscription_succeeded.
    else for (const entry of this.channels.values()) entry.subscribed = false;
    this._evaluate();
  }

  _subscribe(entry) {
    const pusher = this.pusher;
    const subscription = pusher.subscribe(entry.channel);
    entry.subscription = subscription;
    entry.subscribed = false;
    subscription.bind_global((name, data) => {
      if (this.pusher !== pusher || entry.subscription !== subscription) return;
      if (name === "pusher:subscription_succeeded") {
        entry.subscribed = true;
        entry.failed = false;
        entry.generation += 1;
        entry.retryMs = 0;
        this._requestFetch();
      } else if (name === "pusher:subscription_error") {
        this._onSubscriptionError(entry, data);
      } else if (!name.startsWith("pusher:") && !name.startsWith("pusher_internal:")) {
        entry.follower.receive(data);
      }
    });
  }

  _onSubscriptionError(entry, data) {
    entry.subscribed = false;
    const status = data?.status ?? entry.authStatus;
    if (status === 403) {
      this._deny(entry, data?.error ?? "denied by the channel policy");
      return;
    }
    // Not the policy: the auth endpoint failed, the token expired, the network dropped. Poll meanwhile,
    // and subscribe again later (pusher-js does not retry a failed subscription by itself).
    this._error(new Error(`subscription to ${entry.channel} failed (${status || data?.type || "error"})`), entry.channel);
    entry.failed = true;
    entry.retryMs = Math.min(Math.max(entry.retryMs * 2, this.options.pollMs / 2), this.options.maxPollMs);
    entry.retryTimer = setTimeout(() => {
      entry.retryTimer = null;
      if (this.pusher && !entry.denied && this.channels.get(entry.channel) === entry) {
        this.pusher.unsubscribe(entry.channel);
        this._subscribe(entry);
      }
    }, entry.retryMs * (0.8 + 0.4 * this._random()));
    this._evaluate();
  }

  _deny(entry, reason) {
    if (entry.denied) return;
    entry.denied = true;
    entry.follower.stop();
    this.pusher?.unsubscribe(entry.channel);
    entry.subscription = null;
    (entry.handlers.onDenied ?? ((r) => this._error(new Error(`${entry.channel} denied: ${r}`), entry.channel)))(reason);
    this._evaluate();
  }

  _unfollow(entry) {
    if (this.channels.get(entry.channel) !== entry) return;
    this.channels.delete(entry.channel);
    entry.follower.stop();
    if (entry.retryTimer) clearTimeout(entry.retryTimer);
    if (entry.subscription && this.pusher) this.pusher.unsubscribe(entry.channel);
    this._evaluate();
  }

  _authorizeChannel({ socketId, channelName }, callback) {
    const entry = this.channels.get(channelName);
    this._request({
      path: this.config.channel_auth_endpoint,
      form: { socket_id: socketId, channel_name: channelName },
    }).then(
      (signature) => callback(null, signature),
      (error) => {
        if (entry) entry.authStatus = error instanceof HttpError ? error.status : 0;
        callback(error, null);
      },
    );
  }

  _authorizeUser({ socketId }, callback) {
    this._request({ path: this.config.user_auth_endpoint, form: { socket_id: socketId } }).then(
      (signature) => callback(null, signature),
      (error) => callback(error, null),
    );
  }

  // Deciding the state

  _liveReady() {
    if (!this.pusher || !this._connected || this._switchingTo) return false;
    for (const entry of this.channels.values()) {
      if (!entry.denied && (!entry.subscribed || entry.caughtUp < entry.generation)) return false;
    }
    return true;
  }

  _evaluate() {
    if (this._closed) return;
    if (this._liveReady()) {
      this._stopPolling();
      this._disarmFallback();
      this._setState("live");
      this._armLiveCheck();
      return;
    }
    this._disarmLiveCheck();
    if (this._polling) return;
    const failed = [...this.channels.values()].some((entry) => entry.failed && !entry.denied);
    if (this._connectionLost || failed || this._switchingTo) this._startPolling();
    else this._armFallback();
  }

  _armFallback() {
    if (this._fallbackTimer || this._polling) return;
    this._fallbackTimer = setTimeout(() => {
      this._fallbackTimer = null;
      if (!this._liveReady()) this._startPolling();
    }, this.options.fallbackAfterMs);
  }

  _disarmFallback() {
    if (this._fallbackTimer) clearTimeout(this._fallbackTimer);
    this._fallbackTimer = null;
  }

  _startPolling() {
    this._disarmFallback();
    if (this._polling || this._closed) return;
    this._polling = true;
    if (this.state !== "offline") this._setState("polling");
    this._pollTimer = setTimeout(() => this._poll(), this._schedule.first());
  }

  _stopPolling() {
    this._polling = false;
    if (this._pollTimer) clearTimeout(this._pollTimer);
    this._pollTimer = null;
  }

  async _poll() {
    this._pollTimer = null;
    if (!this._polling) return;
    let delay;
    try {
      await this._fetch();
      this._schedule.succeeded();
      if (this._polling && this.state === "offline") this._setState("polling");
      delay = this._schedule.next({ hidden: globalThis.document?.visibilityState === "hidden" });
    } catch (error) {
      this._error(error);
      if (error instanceof NetworkError && this._polling) this._setState("offline");
      delay = this._schedule.failed(error.retryAfterMs);
    }
    if (this._polling && !this._closed) this._pollTimer = setTimeout(() => this._poll(), delay);
  }

  _armLiveCheck() {
    if (this._liveCheckTimer || !this.options.liveCheckMs) return;
    const delay = this.options.liveCheckMs * (0.8 + 0.4 * this._random());
    this._liveCheckTimer = setTimeout(() => {
      this._liveCheckTimer = null;
      // While live, a rare catch-up: it learns the epoch, and finds an event lost on a quiet channel.
      this._fetch().catch(() => {});
      this._armLiveCheck();
    }, delay);
  }

  _disarmLiveCheck() {
    if (this._liveCheckTimer) clearTimeout(this._liveCheckTimer);
    this._liveCheckTimer = null;
  }

  _setState(state) {
    if (state === this.state || this._closed) return;
    const previous = this.state;
    this.state = state;
    this.options.onState?.(state, { previous, epoch: this.epoch, provider: this.config?.provider });
  }

  // Catch-up: the same request serves polling, the catch-up after subscribing, and the live check

  _requestFetch() {
    // Subscriptions succeed one after another after a reconnection: one request covers them all.
    queueMicrotask(() => this._fetch().catch(() => {}));
  }

  /** One catch-up of every followed channel (more pages at once while any channel is behind). */
  _fetch() {
    if (this._fetching) {
      this._fetchAgain = true;
      return this._fetching;
    }
    this._fetching = (async () => {
      try {
        do {
          this._fetchAgain = false;
          await this._fetchOnce();
        } while (this._fetchAgain && !this._closed);
      } finally {
        this._fetching = null;
      }
    })();
    return this._fetching;
  }

  async _fetchOnce() {
    for (;;) {
      const entries = [...this.channels.values()].filter((entry) => !entry.denied);
      if (entries.length === 0) {
        const config = await this._request({ path: CONFIG_PATH });
        this._noteEpoch(config.epoch);
        return;
      }
      const covered = new Map(entries.map((entry) => [entry, entry.subscribed ? entry.generation : -1]));
      const positions = Object.fromEntries(entries.map((entry) => [entry.channel, entry.follower.lastSeq]));
      const answer = await this._request({
        path: this.config?.catch_up_endpoint ?? "/api/v1/realtime/catch-up",
        json: { positions, limit: this.options.pageLimit },
      });
      let more = false;
      for (const entry of entries) {
        const page = answer.channels?.[entry.channel];
        if (!page || this.channels.get(entry.channel) !== entry) continue;
        if (page.status === "denied") {
          this._deny(entry, page.reason);
        } else if (page.status === "resync_required") {
          await entry.follower.resync({ head: page.head, reason: page.reason });
          more = true;
        } else {
          const source = this._polling ? "poll" : "catchup";
          for (const envelope of page.events) entry.follower.receive(envelope, { source });
          if (page.next_after < page.head) more = true;
          else if (covered.get(entry) > entry.caughtUp) entry.caughtUp = covered.get(entry);
        }
      }
      this._noteEpoch(answer.epoch);
      if (!more || this._closed) break;
    }
    this._evaluate();
  }

  /** A page for one follower's gap (a ChannelFollower's fetchPage), through the same endpoint. */
  async _fetchPage(channel, after) {
    const answer = await this._request({
      path: this.config?.catch_up_endpoint ?? "/api/v1/realtime/catch-up",
      json: { positions: { [channel]: after }, limit: this.options.pageLimit },
    });
    this._noteEpoch(answer.epoch);
    const page = answer.channels[channel];
    if (page.status === "resync_required") throw new ResyncRequired(channel, page.head, page.reason);
    if (page.status === "denied") {
      const entry = this.channels.get(channel);
      if (entry) this._deny(entry, page.reason);
      return { events: [], next_after: after, head: after };
    }
    return page;
  }

  _request(request) {
    return apiRequest({
      baseUrl: this.options.baseUrl,
      token: this.options.token,
      fetchImpl: this.options.fetch,
      timeoutMs: this.options.timeoutMs,
      ...request,
    });
  }

  // Provider switches

  _noteEpoch(epoch) {
    if (!Number.isInteger(epoch) || epoch <= this.epoch || epoch <= this._switchingTo || !this.config) return;
    // The service switched provider: live delivery on the old one is over. Poll until the new one is up.
    this._switchingTo = epoch;
    this._evaluate();
    const delay = this._random() * this.options.switchDelayMs;
    if (this._configTimer) clearTimeout(this._configTimer);
    this._configTimer = setTimeout(() => this._loadConfig(), delay);
  }

  _error(error, channel) {
    if (this.options.onError) this.options.onError(error, channel);
  }
}
