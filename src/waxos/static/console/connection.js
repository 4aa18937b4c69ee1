// connection.js: the console's one real-time connection (the @waxos/realtime client package), shared by
// every page. Pages listen to channels through it; a channel is followed once however many pages listen,
// and its state (connecting / live / polling / offline) is shown in the header at all times.
//
// The package is imported when the connection starts rather than with the page, so a console whose
// real-time side cannot load still serves its other pages (Relay, Usage, Inbox), showing "offline".

const PACKAGE = "/static/waxos-realtime.js";

export class Connection {
  constructor(token) {
    this.state = "connecting";
    this._stateListeners = new Set();
    this._channels = new Map(); // channel -> {follow, listeners: Set}
    this.realtime = null;
    this.ready = import(PACKAGE)
      .then(({ connect }) => {
        this.realtime = connect({
          baseUrl: location.origin,
          token,
          onState: (state) => this._setState(state),
          onError: (error) => console.warn("waxos console:", error),
        });
        for (const [channel, entry] of this._channels) entry.follow = this._follow(channel, entry.listeners);
      })
      .catch((error) => {
        console.error("waxos console: the real-time package did not start", error);
        this._setState("offline");
      });
  }

  /** Call `listener(state)` now and on every change; returns a function that stops it. */
  onState(listener) {
    this._stateListeners.add(listener);
    listener(this.state);
    return () => this._stateListeners.delete(listener);
  }

  /**
   * Listen to `channel`: listener = {onEvent(envelope, how), onResync(info), onDenied(info)}; `how.source`
   * says whether the event came live or was filled in by catch-up. Returns a function that stops listening.
   */
  listen(channel, listener) {
    let entry = this._channels.get(channel);
    if (!entry) {
      entry = { follow: null, listeners: new Set() };
      this._channels.set(channel, entry);
      if (this.realtime) entry.follow = this._follow(channel, entry.listeners);
    }
    entry.listeners.add(listener);
    return () => {
      entry.listeners.delete(listener);
      if (entry.listeners.size === 0) {
        entry.follow?.unfollow();
        this._channels.delete(channel);
      }
    };
  }

  close() {
    this.realtime?.close();
    this._channels.clear();
  }

  _follow(channel, listeners) {
    const each = (name, ...args) => {
      for (const one of listeners) one[name]?.(...args);
    };
    return this.realtime.follow(channel, {
      onEvent: (envelope, how) => each("onEvent", envelope, how ?? {}),
      onResync: (info) => each("onResync", info),
      onDenied: (info) => each("onDenied", info),
    });
  }

  _setState(state) {
    this.state = state;
    for (const listener of this._stateListeners) listener(state);
  }
}
