// Node tests of connect(): states, fallback polling, subscription failures, provider switches.
// pusher-js and the API are in-memory fakes here; tests/clients and tests/e2e run the real ones.
import assert from "node:assert/strict";
import { test } from "node:test";

import { Realtime } from "../src/realtime.js";

const A = "private-workspace-1.chats";
const B = "private-user-7";
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition, what, ms = 3000) {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(2);
  }
}

// pusher-js, as far as the client uses it.
class FakeChannel {
  constructor(name) {
    this.name = name;
    this.globals = [];
    this.bound = {};
  }
  bind_global(fn) {
    this.globals.push(fn);
  }
  bind(event, fn) {
    (this.bound[event] ??= []).push(fn);
  }
  emit(event, data) {
    for (const fn of this.bound[event] ?? []) fn(data);
    for (const fn of this.globals) fn(event, data);
  }
}

function fakePusherClass() {
  const instances = [];
  class FakePusher {
    constructor(key, options) {
      this.key = key;
      this.options = options;
      this.channels = new Map();
      this.stateHandlers = [];
      this.connection = { bind: (event, fn) => event === "state_change" && this.stateHandlers.push(fn) };
      this.signedIn = false;
      this.disconnected = false;
      instances.push(this);
    }
    signin() {
      this.signedIn = true;
    }
    subscribe(name) {
      if (!this.channels.has(name)) this.channels.set(name, new FakeChannel(name));
      return this.channels.get(name);
    }
    unsubscribe(name) {
      this.channels.delete(name);
    }
    disconnect() {
      this.disconnected = true;
    }
    setState(current) {
      for (const fn of this.stateHandlers) fn({ previous: "x", current });
    }
    /** Authorize (through the client's handler) and report the outcome as pusher-js would. */
    async subscribeSucceeds(name) {
      const result = await new Promise((resolve) =>
        this.options.channelAuthorization.customHandler({ socketId: "1.1", channelName: name }, (error, data) =>
          resolve({ error, data }),
        ),
      );
      const channel = this.channels.get(name);
      if (result.error) channel.emit("pusher:subscription_error", { type: "AuthError", error: String(result.error) });
      else channel.emit("pusher:subscription_succeeded", {});
      return result;
    }
    live(name, envelope) {
      this.channels.get(name)?.emit(envelope.type, envelope);
    }
  }
  return { FakePusher, instances };
}

// The WAXOS API, as far as the client uses it.
function fakeApi() {
  const api = {
    logs: new Map(),
    epoch: 1,
    provider: "primary",
    down: false,
    authStatus: {}, // channel -> status to answer
    catchUpStatus: 200,
    requests: [],
    deny: new Set(),
    pruned: new Map(),
    publish(channel, count = 1) {
      const log = api.logs.get(channel) ?? [];
      api.logs.set(channel, log);
      const made = [];
      for (let i = 0; i < count; i += 1) {
        const seq = log.length + 1;
        const envelope = { id: `${channel}-${seq}`, type: "message.new", channel, seq, data: {} };
        log.push(envelope);
        made.push(envelope);
      }
      return made;
    },
    catchUps() {
      return api.requests.filter((r) => r.path === "/api/v1/realtime/catch-up");
    },
    async fetch(url, init) {
      const path = new URL(url).pathname;
      const body = init.body ? (init.headers["Content-Type"] === "application/json" ? JSON.parse(init.body) : Object.fromEntries(new URLSearchParams(init.body))) : undefined;
      api.requests.push({ path, body, auth: init.headers.Authorization, at: Date.now() });
      if (api.down) throw new TypeError("fetch failed");
      const answer = (status, json) => ({ status, ok: status < 300, headers: new Map(), json: async () => json });
      if (path === "/api/v1/realtime/config") {
        return answer(200, {
          provider: api.provider,
          epoch: api.epoch,
          key: `key-${api.provider}`,
          cluster: "local",
          ws_host: "127.0.0.1",
          ws_port: api.provider === "primary" ? 6001 : 6002,
          force_tls: false,
          channel_auth_endpoint: "/api/v1/pusher/auth",
          user_auth_endpoint: "/api/v1/pusher/user-auth",
          catch_up_endpoint: "/api/v1/realtime/catch-up",
          notice_channel: "waxos-provider",
          user_id: 7,
        });
      }
      if (path === "/api/v1/pusher/auth") {
        const status = api.authStatus[body.channel_name] ?? 200;
        return answer(status, status === 200 ? { auth: "k:sig" } : { code: "nope" });
      }
      if (path === "/api/v1/pusher/user-auth") return answer(200, { auth: "k:sig", user_data: "{}" });
      if (path === "/api/v1/realtime/catch-up") {
        if (api.catchUpStatus !== 200) return answer(api.catchUpStatus, { code: "database_unavailable" });
        const channels = {};
        for (const [channel, after] of Object.entries(body.positions)) {
          const log = api.logs.get(channel) ?? [];
          if (api.deny.has(channel)) channels[channel] = { status: "denied", reason: "not a member" };
          else if (after < (api.pruned.get(channel) ?? 0)) channels[channel] = { status: "resync_required", reason: "too_old", head: log.length };
          else {
            const events = log.slice(after, after + 3);
            channels[channel] = { status: "ok", events, next_after: events.at(-1)?.seq ?? after, head: log.length };
          }
        }
        return answer(200, { epoch: api.epoch, channels });
      }
      return answer(404, {});
    },
  };
  return api;
}

function start(options = {}) {
  const api = fakeApi();
  const { FakePusher, instances } = fakePusherClass();
  const applied = { [A]: [], [B]: [] };
  const states = [];
  const errors = [];
  const sources = [];
  const realtime = new Realtime(FakePusher, {
    baseUrl: "http://api.test",
    token: async () => "t0k",
    fetch: (url, init) => api.fetch(url, init),
    onEvent: (e, how) => {
      applied[e.channel].push(e.seq);
      sources.push(how.source);
    },
    onState: (state) => states.push(state),
    onError: (error) => errors.push(String(error)),
    fallbackAfterMs: 40,
    pollMs: 20,
    maxPollMs: 100,
    switchDelayMs: 10,
    liveCheckMs: 0,
    gapWaitMs: 20,
    ...options,
  });
  const pusher = () => instances.at(-1);
  return { api, realtime, instances, pusher, applied, states, errors, sources };
}

async function goLive(t, channels = [A, B]) {
  await until(() => t.pusher(), "pusher-js to be created");
  t.pusher().setState("connected");
  for (const channel of channels) await t.pusher().subscribeSucceeds(channel);
  await until(() => t.realtime.state === "live", "live");
}

test("connects pusher-js as the server says, signs in, follows, catches up, then goes live", async () => {
  const t = start();
  t.api.publish(A, 4);
  t.realtime.follow(A);
  t.realtime.follow(B);
  await goLive(t);
  const pusher = t.pusher();
  assert.equal(pusher.key, "key-primary");
  assert.equal(pusher.options.wsHost, "127.0.0.1");
  assert.equal(pusher.options.wsPort, 6001);
  assert.equal(pusher.options.forceTLS, false);
  assert.deepEqual(pusher.options.enabledTransports, ["ws", "wss"]);
  assert.ok(pusher.signedIn);
  assert.ok(pusher.channels.has("waxos-provider"), "the provider notice channel is followed");
  assert.deepEqual(t.applied[A], [1, 2, 3, 4], "the catch-up after subscribing pages to the head");
  const [live5] = t.api.publish(A);
  pusher.live(A, live5);
  pusher.live(A, live5);
  assert.deepEqual(t.applied[A], [1, 2, 3, 4, 5]);
  assert.equal(t.sources.at(-1), "live");
  assert.deepEqual(t.states, ["live"]);
  assert.ok(t.api.requests.every((r) => r.auth === "Bearer t0k"));
  t.realtime.close();
});

test("disconnected longer than fallbackAfterMs: polls all channels in one request, then live again", async () => {
  const t = start();
  t.realtime.follow(A);
  t.realtime.follow(B);
  await goLive(t);
  t.pusher().setState("connecting");
  t.api.publish(A, 5);
  t.api.publish(B, 2);
  await until(() => t.realtime.state === "polling", "polling");
  await until(() => t.applied[A].length === 5 && t.applied[B].length === 2, "polled events");
  assert.deepEqual(t.sources.slice(-7), Array(7).fill("poll"));
  const polls = t.api.catchUps().filter((r) => Object.keys(r.body.positions).length === 2);
  assert.ok(polls.length >= 1, "one request carries both channels");
  t.api.publish(A, 1);
  await until(() => t.applied[A].length === 6, "the next poll");
  // pusher-js reconnects and resubscribes: live once subscribed and caught up, and polling stops.
  t.pusher().setState("connected");
  await t.pusher().subscribeSucceeds(A);
  await t.pusher().subscribeSucceeds(B);
  await until(() => t.realtime.state === "live", "live again");
  const count = t.api.catchUps().length;
  await sleep(80);
  assert.equal(t.api.catchUps().length, count, "no polling while live");
  assert.deepEqual(t.applied[A], [1, 2, 3, 4, 5, 6]);
  assert.deepEqual(t.states, ["live", "polling", "live"]);
  t.realtime.close();
});

test("a short disconnection does not poll", async () => {
  const t = start({ fallbackAfterMs: 300 });
  t.realtime.follow(A);
  await goLive(t, [A]);
  t.pusher().setState("connecting");
  await sleep(30);
  t.pusher().setState("connected");
  await t.pusher().subscribeSucceeds(A);
  await until(() => t.realtime.state === "live", "live");
  await sleep(300);
  assert.deepEqual(t.states, ["live"]);
  t.realtime.close();
});

test("pusher-js unavailable: polling at once, not after the wait", async () => {
  const t = start({ fallbackAfterMs: 60_000 });
  t.realtime.follow(A);
  await until(() => t.pusher(), "pusher-js");
  t.pusher().setState("unavailable");
  await until(() => t.realtime.state === "polling", "polling");
  t.api.publish(A, 2);
  await until(() => t.applied[A].length === 2, "polled events");
  t.realtime.close();
});

test("a subscription failing for another reason than the policy polls and subscribes again", async () => {
  const t = start({ fallbackAfterMs: 60_000 });
  t.api.authStatus[A] = 503;
  t.realtime.follow(A);
  await until(() => t.pusher(), "pusher-js");
  t.pusher().setState("connected");
  await t.pusher().subscribeSucceeds(A);
  await until(() => t.realtime.state === "polling", "polling");
  t.api.authStatus[A] = 200;
  // The client unsubscribes and subscribes again after a delay; this fake then lets it succeed.
  const first = t.pusher().channels.get(A);
  await until(() => t.pusher().channels.get(A) !== first, "a new subscription");
  await t.pusher().subscribeSucceeds(A);
  await until(() => t.realtime.state === "live", "live");
  t.realtime.close();
});

test("a policy denial stops following that channel only; the others go live", async () => {
  const t = start({ fallbackAfterMs: 60_000 });
  const denied = [];
  t.api.authStatus[B] = 403;
  t.realtime.follow(A);
  const b = t.realtime.follow(B, { onDenied: (reason) => denied.push(reason) });
  await until(() => t.pusher(), "pusher-js");
  t.pusher().setState("connected");
  await t.pusher().subscribeSucceeds(A);
  await t.pusher().subscribeSucceeds(B);
  await until(() => t.realtime.state === "live", "live");
  assert.equal(denied.length, 1);
  assert.ok(b.denied);
  assert.deepEqual(t.states, ["live"]);
  t.realtime.close();
});

test("an API that cannot be reached: offline, backing off to the ceiling; polling again when it answers", async () => {
  const t = start({ pollMs: 10, maxPollMs: 60 });
  t.realtime.follow(A);
  await goLive(t, [A]);
  t.api.down = true;
  t.pusher().setState("unavailable");
  await until(() => t.realtime.state === "offline", "offline");
  await sleep(600);
  const attempts = t.api.catchUps().map((r) => r.at);
  const gaps = attempts.slice(1).map((at, i) => at - attempts[i]);
  assert.ok(attempts.length < 20, `no busy loop: ${attempts.length} attempts in 600 ms`);
  assert.ok(Math.max(...gaps.slice(-3)) >= 40, `the delay grew to the ceiling: ${gaps}`);
  t.api.down = false;
  t.api.publish(A, 1);
  await until(() => t.realtime.state === "polling", "polling again", 2000);
  await until(() => t.applied[A].length === 1, "the event");
  assert.deepEqual(t.states, ["live", "polling", "offline", "polling"]);
  t.realtime.close();
});

test("a higher epoch in a poll answer: reconnect to the new provider, catch up, live; nothing lost or repeated", async () => {
  const t = start();
  t.realtime.follow(A);
  await goLive(t, [A]);
  const old = t.pusher();
  old.setState("connecting");
  await until(() => t.realtime.state === "polling", "polling");
  t.api.publish(A, 3);
  t.api.epoch = 2;
  t.api.provider = "secondary";
  await until(() => t.instances.length === 2, "a second pusher-js");
  assert.ok(old.disconnected, "the old provider's connection is closed");
  const fresh = t.pusher();
  assert.equal(fresh.key, "key-secondary");
  assert.equal(fresh.options.wsPort, 6002);
  t.api.publish(A, 2);
  fresh.setState("connected");
  await fresh.subscribeSucceeds(A);
  await until(() => t.realtime.state === "live", "live on the secondary");
  fresh.live(A, t.api.logs.get(A)[4]); // relayed again: a duplicate, dropped
  assert.deepEqual(t.applied[A], [1, 2, 3, 4, 5]);
  assert.equal(t.realtime.epoch, 2);
  t.realtime.close();
});

test("a provider.changed notice moves a live client at once; lower or equal epochs are ignored", async () => {
  const t = start();
  t.realtime.follow(A);
  await goLive(t, [A]);
  t.pusher().channels.get("waxos-provider").emit("provider.changed", { epoch: 1, provider: "primary" });
  await sleep(30);
  assert.equal(t.instances.length, 1);
  t.api.epoch = 3;
  t.api.provider = "secondary";
  t.pusher().channels.get("waxos-provider").emit("provider.changed", { epoch: 3, provider: "secondary" });
  await until(() => t.realtime.state === "polling", "polling during the switch");
  await until(() => t.instances.length === 2, "reconnected");
  t.pusher().setState("connected");
  await t.pusher().subscribeSucceeds(A);
  await until(() => t.realtime.state === "live", "live");
  assert.deepEqual(t.states, ["live", "polling", "live"]);
  t.realtime.close();
});

test("resync_required while polling: the app reloads, then events continue after the head", async () => {
  const resyncs = [];
  const t = start({ onResync: (info) => resyncs.push(info) });
  t.realtime.follow(A, { lastSeq: 2 });
  t.api.publish(A, 6);
  t.api.pruned.set(A, 5);
  await until(() => t.pusher(), "pusher-js");
  t.pusher().setState("unavailable");
  await until(() => resyncs.length === 1, "resync");
  assert.deepEqual(resyncs[0], { channel: A, head: 6, reason: "too_old" });
  t.api.publish(A, 1);
  await until(() => t.applied[A].includes(7), "events after the head");
  assert.deepEqual(t.applied[A], [7]);
  t.realtime.close();
});

test("5xx while polling backs off and reports the error, without going offline", async () => {
  const t = start();
  t.realtime.follow(A);
  await until(() => t.pusher(), "pusher-js");
  t.api.catchUpStatus = 503;
  t.pusher().setState("unavailable");
  await until(() => t.errors.some((e) => e.includes("HTTP 503")), "the error");
  assert.equal(t.realtime.state, "polling");
  t.realtime.close();
});
