"""Benchmark: from an emitting transaction's commit to a pusher-js subscriber receiving the event.

Run:  .venv/bin/python bench/commit_to_receipt.py [--database-url URL] [--seconds 5] [--rates 100,1000]
      [--samples FILE] [--warmup 2]

One process emits events at a fixed rate (one event per transaction, over 10 channels) with the relay
running in the same process, as in `waxos serve`; the local Pusher server runs in its own process, and a
pusher-js client under Node subscribes to the 10 channels. Latency is the subscriber's wall-clock receipt
time minus the wall-clock time just after COMMIT returned, per event (same machine, same clock).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from relay_stack import (
    KEY,
    ROOT,
    SECRET,
    database,
    describe_database,
    local_pusher_server,
    percentile,
    settings_for,
)

from waxos.db.engine import make_engine, make_sessionmaker, transaction
from waxos.db.migrate import upgrade
from waxos.events import MessageNew, emit
from waxos.publisher.service import PusherService
from waxos.relay.relay import Relay, RelayConfig

FOLLOWER = ROOT / "tests" / "e2e" / "realtime_follower.mjs"
CHANNELS = [f"private-workspace-{n}.chats" for n in range(1, 11)]
EVENT = MessageNew(chat_id=1, message_id=2, direction="inbound", sender_type="contact")


class Subscriber:
    """The Node follower in live-only mode; collects (channel, seq) -> receipt wall time in ms."""

    def __init__(self, port: int) -> None:
        options = {"key": KEY, "host": "127.0.0.1", "port": port, "channels": CHANNELS, "secret": SECRET}
        node = shutil.which("node") or "node"
        self.process = subprocess.Popen(
            [node, str(FOLLOWER), json.dumps(options)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        self.received: dict[tuple[str, int], float] = {}
        self.subscribed = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            message = json.loads(line)
            if message["kind"] == "subscribed":
                self.subscribed += 1
            elif message["kind"] == "live":
                self.received[(message["channel"], message["seq"])] = message["wall"]

    def close(self) -> None:
        with contextlib.suppress(OSError):
            assert self.process.stdin is not None
            self.process.stdin.write("exit\n")
            self.process.stdin.flush()
        self.process.wait(timeout=10)


async def run_rate(
    url: str, port: int, subscriber: Subscriber, rate: int, seconds: float, warmup: float
) -> list[float]:
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    publisher = PusherService(settings_for(url, port))
    relay = Relay(engine, publisher, RelayConfig(prune_every_seconds=3600))
    await relay.start()
    committed: dict[tuple[str, int], float] = {}
    # The first `warmup` seconds are sent but not measured: they pay one-time costs (SQLAlchemy compiling
    # each statement, the database preparing it, the first lease renewal's statements) that a running
    # service paid once at start-up.
    unmeasured = int(rate * warmup)
    count = unmeasured + int(rate * seconds)
    started = time.perf_counter()
    try:
        for n in range(count):
            # Paced by schedule, so a slow commit is followed by catch-up rather than drift.
            delay = started + n / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            channel = CHANNELS[n % len(CHANNELS)]
            async with transaction(sessions) as session:
                envelope = await emit(session, channel, EVENT)
            if n >= unmeasured:
                committed[(channel, envelope.seq)] = time.time() * 1000
        deadline = time.monotonic() + 30
        while not all(key in subscriber.received for key in committed) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    finally:
        await relay.aclose()
        await publisher.aclose()
        await engine.dispose()
    missing = [key for key in committed if key not in subscriber.received]
    assert not missing, f"{len(missing)} events never arrived"
    return [subscriber.received[key] - at for key, at in committed.items()]


def subscribed(subscriber: Subscriber) -> None:
    """Wait until the subscriber has joined every channel."""
    deadline = time.monotonic() + 20
    while subscriber.subscribed < len(CHANNELS):
        if time.monotonic() > deadline:
            raise RuntimeError("the subscriber did not subscribe")
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rates", default="100,1000")
    parser.add_argument(
        "--warmup", type=float, default=2.0, help="seconds sent at each rate before measuring (default 2)"
    )
    parser.add_argument("--samples", default=None, help="write every latency (ms) per rate here, as JSON")
    args = parser.parse_args()
    results = {}
    with database(args.database_url) as url, local_pusher_server() as port:
        asyncio.run(upgrade(url))
        subscriber = Subscriber(port)
        try:
            subscribed(subscriber)
            for rate in (int(r) for r in args.rates.split(",")):
                results[rate] = asyncio.run(run_rate(url, port, subscriber, rate, args.seconds, args.warmup))
        finally:
            subscriber.close()
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print("load average (1, 5, 15 min) at the end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(f"machine: {platform.machine()}, python {platform.python_version()}")
    print(f"database: {describe_database(url)}")
    if args.samples:
        Path(args.samples).write_text(json.dumps({str(rate): values for rate, values in results.items()}))
    for rate, latencies in results.items():
        print(
            f"{rate:>5} events/s: p50 {percentile(latencies, 0.5):6.1f} ms  "
            f"p99 {percentile(latencies, 0.99):6.1f} ms  "
            f"({len(latencies)} events after {args.warmup:g} s of warm-up, commit to pusher-js receipt)"
        )


if __name__ == "__main__":
    main()
