"""Benchmark: an announcement to 10,000 workspaces — the request, the fan-out into the log, the delivery.

Run:  .venv/bin/python bench/announcements.py [--postgres URL] [--workspaces 10000]

It migrates a throw-away database (SQLite in a temporary directory, or with `--postgres` a new database
beside URL), creates the workspaces and a platform operator, starts the local Pusher server and `waxos
serve` (one worker, with its relay), and posts one announcement. It prints how long the request took
(it answers before the fan-out), when every workspace's `notification.system` was in the log (target,
issue 10: < 2 s for 10,000 workspaces), and when the relay had delivered them all to the local server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path

from argon2 import PasswordHasher
from harness import database, env_file, free_port, report, serve, wait_for_port
from sqlalchemy import func, insert, select

from waxos.auth.models import User, Workspace
from waxos.auth.tokens import issue_access_token
from waxos.db.base import utcnow
from waxos.db.engine import make_engine, make_sessionmaker, transaction
from waxos.db.migrate import upgrade
from waxos.events.tables import LoggedEvent
from waxos.inbox.models import AnnouncementFanout

SIGNING_KEY = "bench-signing-key-not-secret-0123456789"


async def prepare(database_url: str, workspaces: int) -> tuple[int, int]:
    """Migrate; `workspaces` workspaces and an operator, whose id and token generation are returned."""
    await upgrade(database_url)
    engine = make_engine(database_url)
    try:
        async with transaction(make_sessionmaker(engine)) as session:
            now = utcnow()
            await session.execute(
                insert(Workspace), [{"name": f"W{n}", "created_at": now} for n in range(workspaces)]
            )
            hashed = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("bench-password")
            operator = User(
                email="operator@bench.test", name="Operator", password_hash=hashed, is_operator=True
            )
            session.add(operator)
            await session.flush()
            return operator.id, operator.token_generation
    finally:
        await engine.dispose()


async def announce_and_watch(database_url: str, port: int, token: str, workspaces: int) -> dict[str, float]:
    """Post the announcement; when it was answered, fully logged, and fully delivered (seconds)."""
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    times: dict[str, float] = {}
    try:
        started = time.perf_counter()
        # The request in a thread: the answer must not wait for this loop's polling (nor the reverse).
        status = await asyncio.to_thread(_post, port, token)
        times["answered"] = time.perf_counter() - started
        times["status"] = status
        while "delivered" not in times and time.perf_counter() - started < 300:
            async with sessions() as session:
                unfinished = await session.scalar(
                    select(func.count())
                    .select_from(AnnouncementFanout)
                    .where(AnnouncementFanout.finished_at.is_(None))
                )
                delivered = await session.scalar(
                    select(func.count()).select_from(LoggedEvent).where(LoggedEvent.delivered_at.is_not(None))
                )
            now = time.perf_counter() - started
            if unfinished == 0 and "logged" not in times:
                times["logged"] = now
            if (delivered or 0) >= workspaces:
                times["delivered"] = now
            await asyncio.sleep(0.05)
        return times
    finally:
        await engine.dispose()


def _post(port: int, token: str) -> int:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/announcements",
        data=json.dumps({"level": "warning", "code": "maintenance"}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:  # noqa: S310 - a local URL
        return int(response.status)


def _ms(seconds: float | None) -> str:
    return f"{seconds * 1000:10.1f}" if seconds is not None else "  (not within 300 s)"


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres", metavar="URL", help="PostgreSQL to create the throw-away database beside"
    )
    parser.add_argument("--workspaces", type=int, default=10_000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, database(args.postgres, tmp) as database_url:
        operator_id, generation = asyncio.run(prepare(database_url, args.workspaces))
        pusher_port = free_port()
        settings = env_file(
            Path(tmp) / "bench.env", database_url, WAXOS_SECRET_KEY=SIGNING_KEY, PUSHER_PORT=str(pusher_port)
        )
        token = issue_access_token(operator_id, generation, SIGNING_KEY, timedelta(hours=1), utcnow())
        load_before = os.getloadavg()[0]
        port = free_port()
        local_server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "waxos",
                "--env-file",
                str(settings),
                "pusher-server",
                "--port",
                str(pusher_port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port(pusher_port)
            with serve(settings, port, WAXOS_RUN_RELAY="true"):
                times = asyncio.run(announce_and_watch(database_url, port, token, args.workspaces))
        finally:
            local_server.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                local_server.wait(timeout=10)
        report(
            sys.argv,
            database_url,
            load_before,
            [
                f"1 uvicorn worker with its relay; the local Pusher server; {args.workspaces:,} workspaces\n",
                f"  request answered (HTTP {times['status']:.0f})           {_ms(times.get('answered'))} ms",
                f"  every workspace's event in the log        {_ms(times.get('logged'))} ms",
                f"  every event delivered to the local server {_ms(times.get('delivered'))} ms",
                "\ntarget (issue 10): enqueued in < 2 s for 10,000 workspaces, "
                "no request held open meanwhile",
            ],
        )


if __name__ == "__main__":
    main()
