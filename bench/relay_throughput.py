"""Benchmark: relay throughput to a pusher-js subscriber, against the SDK's `trigger` loop, same run.

Run:  .venv/bin/python bench/relay_throughput.py [--database-url URL] [--events 20000] [--rtt-ms 20]

Both are measured where it counts: at one pusher-js subscriber (under Node) of the 10 channels, from the
first send to the moment the subscriber has received every event. Baseline: the official `pusher` SDK's
`trigger`, once per event, in a loop (what a feature would do if it published directly). Relay: the
events are first logged (not timed), then one relay drains the log through the same local server:
batches of 10, four requests in flight on disjoint channels, each round marked delivered in one
transaction. The local server runs in its own process, the subscriber in Node.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
from pathlib import Path

import pusher

sys.path.insert(0, str(Path(__file__).resolve().parent))

from commit_to_receipt import CHANNELS, Subscriber, subscribed
from relay_stack import (
    APP_ID,
    KEY,
    SECRET,
    database,
    delayed,
    describe_database,
    local_pusher_server,
    settings_for,
)

from waxos.db.engine import make_engine, make_sessionmaker, transaction
from waxos.db.migrate import upgrade
from waxos.events import MessageNew, emit_many
from waxos.publisher.service import PusherService
from waxos.relay.relay import Outcome, Relay, RelayConfig

EVENT = MessageNew(chat_id=12345, message_id=67890, direction="inbound", sender_type="contact")
# The baseline's seqs: far above the relay's, so the subscriber tells the two runs apart.
BASELINE_SEQ = 10_000_000


def until_received(subscriber: Subscriber, keys: list[tuple[str, int]], seconds: float = 120) -> float:
    """Wait until the subscriber has every key; return the wall time (ms) of the last receipt."""
    deadline = time.monotonic() + seconds
    while not all(key in subscriber.received for key in keys):
        if time.monotonic() > deadline:
            missing = sum(key not in subscriber.received for key in keys)
            raise RuntimeError(f"{missing} events never reached the subscriber")
        time.sleep(0.01)
    return max(subscriber.received[key] for key in keys)


def naive_baseline(port: int, events: int, subscriber: Subscriber) -> float:
    """Events/s of `Pusher.trigger` once per event, sequentially, until the subscriber has them all."""
    client = pusher.Pusher(app_id=APP_ID, key=KEY, secret=SECRET, host="127.0.0.1", port=port, ssl=False)
    client.trigger(CHANNELS[0], "message.new", {"seq": 0})  # warm-up (seq 0 is never awaited)
    keys = []
    started = time.time() * 1000
    for n in range(events):
        channel, seq = CHANNELS[n % len(CHANNELS)], BASELINE_SEQ + n
        client.trigger(channel, "message.new", {"type": "message.new", "seq": seq, "data": EVENT.data()})
        keys.append((channel, seq))
    return events / ((until_received(subscriber, keys) - started) / 1000)


async def relay_rate(url: str, port: int, events: int, subscriber: Subscriber) -> tuple[float, int]:
    """Events/s of one relay draining `events` logged events on the 10 channels; and its rounds."""
    await upgrade(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    per_channel = events // len(CHANNELS)
    keys = []
    for channel in CHANNELS:
        async with transaction(sessions) as session:
            envelopes = await emit_many(session, channel, [EVENT] * per_channel)
        keys += [(channel, envelope.seq) for envelope in envelopes]
    publisher = PusherService(settings_for(url, port))
    relay = Relay(engine, publisher, RelayConfig(prune_every_seconds=3600))
    rounds = 0
    started = time.time() * 1000
    while (await relay.run_once()).outcome is not Outcome.IDLE:
        rounds += 1
    last = await asyncio.to_thread(until_received, subscriber, keys)
    await publisher.aclose()
    await engine.dispose()
    return len(keys) / ((last - started) / 1000), rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--baseline-events", type=int, default=2000)
    parser.add_argument("--rtt-ms", type=float, default=0, help="emulate a remote Pusher's round trip")
    args = parser.parse_args()
    with (
        database(args.database_url) as url,
        local_pusher_server() as server_port,
        delayed(server_port, args.rtt_ms) as port,
    ):
        subscriber = Subscriber(server_port)
        try:
            subscribed(subscriber)
            baseline = naive_baseline(port, args.baseline_events, subscriber)
            rate, rounds = asyncio.run(relay_rate(url, port, args.events, subscriber))
        finally:
            subscriber.close()
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print("load average (1, 5, 15 min) at the end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    print(f"database: {describe_database(url)}; emulated round trip to Pusher: {args.rtt_ms:g} ms")
    print("measured at: one pusher-js subscriber of the 10 channels (until it had every event)")
    print(
        f"naive SDK trigger loop: {baseline:,.0f} events/s ({args.baseline_events} events, one request each)"
    )
    print(f"relay: {rate:,.0f} events/s ({args.events} events on {len(CHANNELS)} channels, {rounds} rounds)")
    print(f"speed-up: {rate / baseline:.1f}x")


if __name__ == "__main__":
    main()
