"""Benchmark: how long a SIGKILLed relay's channel waits before another relay delivers its new events.

Run:  .venv/bin/python bench/takeover.py [--database-url URL] [--trials 3] [--lease-seconds 3]

Two `waxos relay` processes share the database (as `waxos serve` processes or relay workers would), a
pusher-js subscriber follows one channel. Per trial: an event is delivered, the relay holding the channel's
lease is SIGKILLed (a crash: it releases nothing), one more event is logged at once, and the figure is
the time from the kill to the subscriber's receipt of that event. The killed relay is restarted between
trials. The drill in tests/e2e/test_relay_takeover.py checks the same on every CI run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent))

from commit_to_receipt import CHANNELS, Subscriber, subscribed
from relay_stack import APP_ID, KEY, SECRET, database, describe_database, local_pusher_server

from waxos.db.engine import make_engine, make_sessionmaker, transaction
from waxos.db.migrate import upgrade
from waxos.events import MessageNew, emit
from waxos.relay.leases import RelayLease

EVENT = MessageNew(chat_id=1, message_id=2, direction="inbound", sender_type="contact")
CHANNEL = CHANNELS[0]


def relay_process(name: str, url: str, port: int, lease: float) -> subprocess.Popen[bytes]:
    """`waxos relay` as its own process, pointed at the benchmark's database and local server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PUSHER_", "WAXOS_", "DATABASE_"))}
    env.update(
        WAXOS_ENV_FILE="/nonexistent.env",
        DATABASE_URL=url,
        WAXOS_LOG_LEVEL="WARNING",
        WAXOS_RELAY_METRICS_PORT="0",
        PUSHER_APP_ID=APP_ID,
        PUSHER_KEY=KEY,
        PUSHER_SECRET=SECRET,
        PUSHER_CLUSTER="local",
        PUSHER_HOST="127.0.0.1",
        PUSHER_PORT=str(port),
        PUSHER_USE_TLS="false",
    )
    command = [sys.executable, "-m", "waxos", "relay", "--relay-id", name, "--lease-seconds", str(lease)]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def trials(url: str, port: int, subscriber: Subscriber, count: int, lease: float) -> list[float]:
    """Seconds from each SIGKILL to the receipt of the first event logged after it."""
    await upgrade(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)

    async def log_one() -> tuple[str, int]:
        async with transaction(sessions) as session:
            envelope = await emit(session, CHANNEL, EVENT)
        return CHANNEL, envelope.seq

    async def received(key: tuple[str, int]) -> float:
        deadline = time.monotonic() + 60
        while key not in subscriber.received:
            if time.monotonic() > deadline:
                raise RuntimeError(f"event {key} never arrived")
            await asyncio.sleep(0.005)
        return subscriber.received[key]

    relays = {name: relay_process(name, url, port, lease) for name in ("relay-a", "relay-b")}
    figures = []
    try:
        for _ in range(count):
            await received(await log_one())
            async with sessions() as session:
                holder = await session.scalar(select(RelayLease.owner).where(RelayLease.channel == CHANNEL))
            assert holder in relays, holder
            relays[holder].send_signal(signal.SIGKILL)
            relays[holder].wait()
            killed_at = time.time() * 1000
            arrived = await received(await log_one())
            figures.append((arrived - killed_at) / 1000)
            relays[holder] = relay_process(holder, url, port, lease)
    finally:
        for process in relays.values():
            process.terminate()
            process.wait(timeout=30)
        await engine.dispose()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--lease-seconds", type=float, default=3.0)
    args = parser.parse_args()
    with database(args.database_url) as url, local_pusher_server() as port:
        subscriber = Subscriber(port)
        try:
            subscribed(subscriber)
            figures = asyncio.run(trials(url, port, subscriber, args.trials, args.lease_seconds))
        finally:
            subscriber.close()
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print("load average (1, 5, 15 min) at the end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(f"machine: {platform.machine()}, python {platform.python_version()}")
    print(f"database: {describe_database(url)}; lease {args.lease_seconds:g} s")
    print(f"takeover after SIGKILL: {', '.join(f'{f:.2f}' for f in figures)} s")
    print(f"takeover: max {max(figures):.2f} s, median {statistics.median(figures):.2f} s")


if __name__ == "__main__":
    main()
