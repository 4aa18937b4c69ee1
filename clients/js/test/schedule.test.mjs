// Node tests of the polling schedule: jitter, backoff to a ceiling, Retry-After, hidden tabs.
import assert from "node:assert/strict";
import { test } from "node:test";

import { PollSchedule } from "../src/schedule.js";

test("steady polls stay within the interval ±20 %", () => {
  for (const r of [0, 0.5, 0.999]) {
    const delay = new PollSchedule({ pollMs: 5000, random: () => r }).next();
    assert.ok(delay >= 4000 && delay <= 6000, `${delay}`);
  }
});

test("the first poll falls anywhere in one interval", () => {
  assert.equal(new PollSchedule({ pollMs: 5000, random: () => 0 }).first(), 0);
  assert.equal(new PollSchedule({ pollMs: 5000, random: () => 0.5 }).first(), 2500);
});

test("failures back off by 1.6 up to the ceiling, never below the interval, and a success resets", () => {
  const schedule = new PollSchedule({ pollMs: 5000, maxPollMs: 60000, random: () => 0.5 });
  const delays = Array.from({ length: 12 }, () => schedule.failed());
  assert.deepEqual(delays.slice(0, 3).map(Math.round), [8000, 12800, 20480]);
  for (let i = 1; i < delays.length; i += 1) assert.ok(delays[i] >= delays[i - 1]);
  assert.equal(delays.at(-1), 60000, "capped at the ceiling");
  const jittered = new PollSchedule({ pollMs: 5000, maxPollMs: 60000, random: () => 0.999 });
  for (let i = 0; i < 20; i += 1) assert.ok(jittered.failed() <= 72000);
  schedule.succeeded();
  assert.equal(schedule.next(), 5000);
});

test("Retry-After raises the next delay, but not past the ceiling", () => {
  const schedule = new PollSchedule({ pollMs: 5000, maxPollMs: 60000, random: () => 0.5 });
  assert.equal(schedule.failed(30000), 30000);
  assert.equal(schedule.failed(3_600_000), 60000);
});

test("a hidden page polls at most every 30 s", () => {
  const schedule = new PollSchedule({ pollMs: 5000, random: () => 0.5 });
  assert.equal(schedule.next({ hidden: true }), 30000);
});
