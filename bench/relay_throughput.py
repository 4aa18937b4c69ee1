"""Benchmark: relay throughput from the event log to the local Pusher server, against the naive baseline.

Run:  .venv/bin/python bench/relay_throughput.py [--database-url URL] [--events 20000] [--channels 20]

Baseline: the official `pusher` SDK's `trigger`, once per event, in a loop (what a feature would do if
it published directly). Relay: the events are first logged (not timed), then one relay drains the log
through the same local server: batches of 10, four requests in flight on disjoint channels, each round
marked delivered in one transaction. The local server runs in its own process.
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


def naive_baseline(port: int, events: int) -> float:
    """Events/s of `Pusher.trigger` once per event, sequentially, with the SDK's default backend."""
    client = pusher.Pusher(app_id=APP_ID, key=KEY, secret=SECRET, host="127.0.0.1", port=port, ssl=False)
    data = {"type": "message.new", "seq": 1, "data": EVENT.data()}
    client.trigger("private-workspace-1.chats", "message.new", data)  # warm-up
    started = time.perf_counter()
    for n in range(events):
        client.trigger(f"private-workspace-{n % 20 + 1}.chats", "message.new", data)
    return events / (time.perf_counter() - started)


async def relay_rate(url: str, port: int, events: int, channels: int) -> tuple[float, int]:
    """Events/s of one relay draining `events` logged events on `channels` channels; and rounds."""
    await upgrade(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    per_channel = events // channels
    for number in range(1, channels + 1):
        async with transaction(sessions) as session:
            await emit_many(session, f"private-workspace-{number}.chats", [EVENT] * per_channel)
    publisher = PusherService(settings_for(url, port))
    relay = Relay(engine, publisher, RelayConfig(prune_every_seconds=3600))
    rounds = 0
    started = time.perf_counter()
    while (await relay.run_once()).outcome is not Outcome.IDLE:
        rounds += 1
    elapsed = time.perf_counter() - started
    delivered = relay.metrics.registry.get_sample_value("waxos_relay_delivered_events_total")
    assert delivered == per_channel * channels
    await publisher.aclose()
    await engine.dispose()
    return per_channel * channels / elapsed, rounds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--channels", type=int, default=20)
    parser.add_argument("--baseline-events", type=int, default=2000)
    parser.add_argument("--rtt-ms", type=float, default=0, help="emulate a remote Pusher's round trip")
    args = parser.parse_args()
    with (
        database(args.database_url) as url,
        local_pusher_server() as server_port,
        delayed(server_port, args.rtt_ms) as port,
    ):
        baseline = naive_baseline(port, args.baseline_events)
        rate, rounds = asyncio.run(relay_rate(url, port, args.events, args.channels))
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print("load average (1, 5, 15 min) at the end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(f"machine: {platform.processor() or platform.machine()}, python {platform.python_version()}")
    print(f"database: {describe_database(url)}; emulated round trip to Pusher: {args.rtt_ms:g} ms")
    print(
        f"naive SDK trigger loop: {baseline:,.0f} events/s ({args.baseline_events} events, one request each)"
    )
    print(f"relay: {rate:,.0f} events/s ({args.events} events on {args.channels} channels, {rounds} rounds)")
    print(f"speed-up: {rate / baseline:.1f}x")


if __name__ == "__main__":
    main()
