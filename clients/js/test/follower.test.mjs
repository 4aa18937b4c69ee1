// Node tests of the per-channel follower (run: npm test in clients/js).
import assert from "node:assert/strict";
import { test } from "node:test";

import {
  ChannelFollower,
  ResyncRequired,
  fetchCatchUpPage,
  followChannel,
} from "../src/follower.js";

const CHANNEL = "private-workspace-1.chats";
const ev = (seq) => ({ id: `id-${seq}`, type: "message.new", channel: CHANNEL, seq, data: {} });
const range = (from, to) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

// A catch-up server in memory: the log holds seqs `retainedFrom..head`.
function fakeLog({ head, retainedFrom = 1, pageSize = 3 }) {
  const calls = [];
  const log = {
    head,
    calls,
    async fetchPage(after) {
      calls.push(after);
      if (after < retainedFrom - 1 || after > log.head) {
        throw new ResyncRequired(CHANNEL, log.head, after > log.head ? "ahead_of_head" : "too_old");
      }
      const events = range(after + 1, Math.min(log.head, after + pageSize)).map(ev);
      return { channel: CHANNEL, events, next_after: events.length ? events.at(-1).seq : after, head: log.head };
    },
  };
  return log;
}

function follower(options = {}) {
  const applied = [];
  const log = options.log ?? fakeLog({ head: 0 });
  const f = new ChannelFollower({
    channel: CHANNEL,
    fetchPage: (after) => log.fetchPage(after),
    onEvent: (e) => applied.push(e.seq),
    gapWaitMs: 20,
    ...options,
  });
  return { f, applied, log };
}

test("applies in order and drops duplicates", () => {
  const { f, applied } = follower();
  for (const seq of [1, 2, 2, 1, 3]) f.receive(ev(seq));
  assert.deepEqual(applied, [1, 2, 3]);
  assert.equal(f.duplicates, 2);
});

test("holds an early event until the one before it arrives", () => {
  const { f, applied, log } = follower();
  f.receive(ev(1));
  f.receive(ev(3));
  f.receive(ev(4));
  assert.deepEqual(applied, [1]);
  f.receive(ev(2));
  assert.deepEqual(applied, [1, 2, 3, 4]);
  assert.deepEqual(log.calls, []);
  f.stop();
});

test("ignores events of other channels and non-envelopes", () => {
  const { f, applied } = follower();
  f.receive({ ...ev(1), channel: "private-user-1" });
  f.receive({ hello: "world" });
  f.receive(undefined);
  assert.deepEqual(applied, []);
});

test("a gap that does not close is filled from catch-up, then the held events follow", async () => {
  const log = fakeLog({ head: 6 });
  const { f, applied } = follower({ log });
  f.receive(ev(1));
  f.receive(ev(5));
  f.receive(ev(6));
  await new Promise((resolve) => setTimeout(resolve, 60));
  await f._catchingUp;
  assert.deepEqual(applied, [1, 2, 3, 4, 5, 6]);
  assert.equal(log.calls[0], 1);
});

test("catch-up pages until the head and skips what was already applied", async () => {
  const log = fakeLog({ head: 8, pageSize: 3 });
  const { f, applied } = follower({ log, lastSeq: 1 });
  await f.catchUp();
  assert.deepEqual(applied, range(2, 8));
  assert.deepEqual(log.calls, [1, 4, 7]);
  f.receive(ev(8));
  assert.equal(f.duplicates, 1);
});

test("a failed catch-up is retried with a growing delay until it succeeds", async () => {
  const log = fakeLog({ head: 3, pageSize: 10 });
  let failures = 2;
  const errors = [];
  const { f, applied } = follower({
    log,
    retryMs: 10,
    onError: (error) => errors.push(String(error)),
    fetchPage: async (after) => {
      if (failures-- > 0) throw new Error("HTTP 503 database_unavailable");
      return log.fetchPage(after);
    },
  });
  await f.catchUp();
  assert.deepEqual(applied, []);
  assert.equal(f._nextRetryMs, 20);
  await new Promise((resolve) => setTimeout(resolve, 60));
  await f._catchingUp;
  assert.deepEqual(applied, [1, 2, 3]);
  assert.equal(errors.length, 2);
  assert.equal(f._nextRetryMs, 10, "a success resets the delay");
  f.stop();
});

test("stop cancels a pending retry", async () => {
  let calls = 0;
  const { f } = follower({
    retryMs: 10,
    onError: () => {},
    fetchPage: async () => {
      calls += 1;
      throw new Error("offline");
    },
  });
  await f.catchUp();
  f.stop();
  await new Promise((resolve) => setTimeout(resolve, 40));
  assert.equal(calls, 1);
});

test("concurrent catch-up requests merge into one more pass", async () => {
  const log = fakeLog({ head: 2, pageSize: 10 });
  const { f, applied } = follower({ log });
  const first = f.catchUp();
  log.head = 4; // new events committed while the first pass runs
  const second = f.catchUp();
  assert.equal(first, second);
  await first;
  assert.deepEqual(applied, [1, 2, 3, 4]);
  assert.deepEqual(log.calls, [0, 2]);
});

test("resync_required: the app reloads, then events continue after the head", async () => {
  const log = fakeLog({ head: 10, retainedFrom: 6 });
  const resyncs = [];
  const { f, applied } = follower({ log, lastSeq: 2, onResync: (r) => resyncs.push(r) });
  f.receive(ev(11)); // published after the catch-up read the head, arriving before its answer
  const pass = f.catchUp();
  log.head = 11; // so the log holds it by the time the helper looks again
  await pass;
  assert.deepEqual(resyncs, [{ channel: CHANNEL, head: 10, reason: "too_old" }]);
  assert.equal(f.lastSeq, 11);
  assert.deepEqual(applied, [11]);
  f.stop();
});

test("ahead_of_head (a restored log): start again from the head and apply its new events", async () => {
  // The client applied up to 20; the restored log's head is 12 and new events get 13, 14, ...
  const log = fakeLog({ head: 12, pageSize: 10 });
  const resyncs = [];
  const { f, applied } = follower({ log, lastSeq: 20, onResync: (r) => resyncs.push(r) });
  f.receive(ev(22)); // held from before the restore: meaningless now
  const pass = f.catchUp();
  log.head = 14; // new events committed while the app reloads
  await pass;
  assert.deepEqual(resyncs, [{ channel: CHANNEL, head: 12, reason: "ahead_of_head" }]);
  assert.deepEqual(applied, [13, 14], "new events after the restored head are applied, not dropped");
  assert.equal(f.lastSeq, 14);
  f.receive(ev(15));
  assert.deepEqual(applied, [13, 14, 15]);
  f.stop();
});

test("fetchCatchUpPage sends the token and maps 410 to ResyncRequired", async () => {
  const requests = [];
  const answers = [
    { status: 200, body: { channel: CHANNEL, events: [ev(4)], next_after: 4, head: 4 } },
    { status: 410, body: { code: "resync_required", reason: "too_old", head: 9 } },
    { status: 403, body: { code: "channel_denied" } },
  ];
  const fetchImpl = async (url, init) => {
    requests.push({ url: String(url), auth: init.headers.Authorization });
    const { status, body } = answers.shift();
    return { status, ok: status < 300, json: async () => body };
  };
  const options = { baseUrl: "http://waxos.test", token: async () => "t0k", channel: CHANNEL, fetchImpl };
  const page = await fetchCatchUpPage({ ...options, after: 3 });
  assert.deepEqual(page.events.map((e) => e.seq), [4]);
  assert.equal(
    requests[0].url,
    "http://waxos.test/api/v1/realtime/events?channel=private-workspace-1.chats&after=3&limit=500",
  );
  assert.equal(requests[0].auth, "Bearer t0k");
  await assert.rejects(fetchCatchUpPage({ ...options, after: 0 }), (e) => e instanceof ResyncRequired && e.head === 9);
  await assert.rejects(fetchCatchUpPage({ ...options, after: 0 }), /HTTP 403 channel_denied/);
});

test("followChannel catches up on every subscription_succeeded and applies live events", async () => {
  const handlers = { global: [], bound: {} };
  const subscription = {
    subscribed: false,
    bind_global: (fn) => handlers.global.push(fn),
    unbind_global: () => (handlers.global.length = 0),
    bind: (name, fn) => (handlers.bound[name] = fn),
    unbind: (name) => delete handlers.bound[name],
  };
  const unsubscribed = [];
  const pusher = { subscribe: () => subscription, unsubscribe: (c) => unsubscribed.push(c) };
  let head = 2;
  const fetchImpl = async (url) => {
    const after = Number(new URL(url).searchParams.get("after"));
    const events = range(after + 1, head).map(ev);
    return { status: 200, ok: true, json: async () => ({ events, next_after: head, head }) };
  };
  const applied = [];
  const follow = followChannel(pusher, CHANNEL, {
    baseUrl: "http://waxos.test",
    token: "t",
    fetchImpl,
    onEvent: (e) => applied.push(e.seq),
  });
  handlers.bound["pusher:subscription_succeeded"]();
  await follow._catchingUp;
  assert.deepEqual(applied, [1, 2]);
  handlers.global[0]("message.new", ev(3));
  handlers.global[0]("pusher:pong", {});
  head = 6; // 4..6 published while the connection was down
  handlers.bound["pusher:subscription_succeeded"]();
  await tick();
  await follow._catchingUp;
  assert.deepEqual(applied, [1, 2, 3, 4, 5, 6]);
  follow.unsubscribe();
  assert.deepEqual(unsubscribed, [CHANNEL]);
  assert.equal(handlers.global.length, 0);
});

test("onEvent is told how each event came: live, released from the buffer as live, or caught up", async () => {
  const log = fakeLog({ head: 5, pageSize: 10 });
  const seen = [];
  const f = new ChannelFollower({
    channel: CHANNEL,
    fetchPage: (after) => log.fetchPage(after),
    onEvent: (e, how) => seen.push([e.seq, how.source]),
    gapWaitMs: 10_000,
  });
  f.receive(ev(1));
  f.receive(ev(3));
  f.receive(ev(2));
  f.receive(ev(4), { source: "poll" });
  await f.catchUp();
  assert.deepEqual(seen, [
    [1, "live"],
    [2, "live"],
    [3, "live"],
    [4, "poll"],
    [5, "catchup"],
  ]);
  f.stop();
});
