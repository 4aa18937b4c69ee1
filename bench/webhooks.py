"""Benchmark: Pusher webhook deliveries per second into `POST /api/v1/pusher/webhooks` on one worker.

Run:  .venv/bin/python bench/webhooks.py [--postgres URL] [--concurrency 32] [--duration 10]

It migrates a throw-away database (SQLite in a temporary directory, or with `--postgres` a new database
beside URL), gives a workspace 50 staff, starts `waxos serve` (one worker, relay off), and posts distinct,
correctly signed deliveries — one event each, as Pusher sends them without batching — from this process
(closed loop, keep-alive). Variants, in one run:

  - presence: `member_added` / `member_removed` in turn for 50 staff; every delivery changes someone's
    presence, so every one also logs a `user.online` (the worst case);
  - occupancy: `channel_occupied` / `channel_vacated` / `subscription_count` over 50 channels (no event);
  - duplicates: one delivery re-sent (answered 200 `duplicate`, nothing written).

Target (issue 10): >= 2,000 deliveries/s.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from harness import HEADER, Figures, Target, database, env_file, free_port, measure, report, request, serve

from waxos.auth.models import Membership, Role, User, Workspace
from waxos.db.engine import make_engine, make_sessionmaker, transaction
from waxos.db.migrate import upgrade
from waxos.pusher_protocol.webhooks import build_webhook

KEY, SECRET = "bench-key", "bench-pusher-secret"
STAFF = 50


async def prepare(database_url: str) -> tuple[int, list[int]]:
    """Migrate; a workspace with `STAFF` members; its id and theirs."""
    await upgrade(database_url)
    engine = make_engine(database_url)
    try:
        hashed = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("bench-password")
        async with transaction(make_sessionmaker(engine)) as session:
            workspace = Workspace(name="Bench")
            users = [
                User(email=f"staff{n}@bench.test", name=f"Staff {n}", password_hash=hashed)
                for n in range(STAFF)
            ]
            session.add_all([workspace, *users])
            await session.flush()
            session.add_all(
                Membership(user_id=u.id, workspace_id=workspace.id, role=Role.AGENT) for u in users
            )
            return workspace.id, [u.id for u in users]
    finally:
        await engine.dispose()


def deliveries(events: itertools.cycle[dict[str, Any]], count: int) -> tuple[bytes, ...]:
    """`count` distinct signed deliveries of one event each, `time_ms` increasing by one."""
    start = int(time.time() * 1000)
    signed = []
    for n in range(count):
        webhook = build_webhook([next(events)], key=KEY, secret=SECRET, time_ms=start + n)
        signed.append(request("POST", "/api/v1/pusher/webhooks", webhook.body, webhook.headers))
    return tuple(signed)


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres", metavar="URL", help="PostgreSQL to create the throw-away database beside"
    )
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per variant")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--deliveries", type=int, default=60_000, help="distinct deliveries per variant")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, database(args.postgres, tmp) as database_url:
        workspace_id, staff = asyncio.run(prepare(database_url))
        settings = env_file(Path(tmp) / "bench.env", database_url, PUSHER_KEY=KEY, PUSHER_SECRET=SECRET)
        presence = f"presence-workspace-{workspace_id}"
        members = itertools.cycle(
            [{"name": "member_added", "channel": presence, "user_id": str(u)} for u in staff]
            + [{"name": "member_removed", "channel": presence, "user_id": str(u)} for u in staff]
        )
        channels = [f"private-workspace-{workspace_id}.c{n}" for n in range(50)]
        occupancy = itertools.cycle(
            [{"name": "channel_occupied", "channel": c} for c in channels]
            + [{"name": "subscription_count", "channel": c, "subscription_count": 3} for c in channels]
            + [{"name": "channel_vacated", "channel": c} for c in channels]
        )
        targets = [
            Target("presence (each delivery: a user.online)", deliveries(members, args.deliveries)),
            Target("occupancy and subscription counts (no event)", deliveries(occupancy, args.deliveries)),
            Target("duplicates (one delivery re-sent)", deliveries(occupancy, 1)),
        ]
        load_before = os.getloadavg()[0]
        port = free_port()
        results: list[tuple[Figures, float]] = []
        with serve(settings, port, WAXOS_RUN_RELAY="false") as pid:
            for target in targets:
                results.append(
                    asyncio.run(measure(port, pid, target, args.concurrency, args.duration, args.warmup))
                )
        report(
            sys.argv,
            database_url,
            load_before,
            [
                f"1 uvicorn worker, relay off, concurrency {args.concurrency}, "
                f"{args.duration:g} s per variant\n",
                HEADER,
                *(figures.row(cpu) for figures, cpu in results),
                "\ntarget (issue 10): >= 2,000 deliveries/s",
            ],
        )


if __name__ == "__main__":
    main()
