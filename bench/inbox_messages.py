"""Benchmark: `POST /api/v1/chats/{id}/messages` on one `waxos serve` worker, with and without its event.

Run:  .venv/bin/python bench/inbox_messages.py [--postgres URL] [--workspaces 50] [--concurrency 16]
                                              [--duration 10]

It migrates a throw-away database (SQLite in a temporary directory, or with `--postgres` a new database
beside URL, dropped afterwards), gives one agent a chat in each of `--workspaces` workspaces, and loads
the send-message route with keep-alive connections from this process (closed loop), the requests going
round the chats. Variants, in one run so the machine's noise hits all of them:

  - `N chats, with message.new`: the route as shipped, the insert and `emit` in one transaction;
  - `N chats, without the event`: the same server with the inbox's `Outbox.emit` turned into a no-op,
    i.e. the same insert and answer without the event;
  - `one chat, with message.new`: every event on one channel, whose head row each transaction holds from
    `emit` to commit: the ceiling of one busy workspace;
  - `N chats, with message.new` again, to see drift.

Besides throughput and latency it prints the server's CPU per request (from /proc), which other
processes on a shared machine barely move. The relay is off (`WAXOS_RUN_RELAY=false`): the figures are
the API's. Targets (issue 10): >= 1,000 req/s with p99 < 25 ms on PostgreSQL; the event adds < 1 ms p50.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

from argon2 import PasswordHasher
from harness import HEADER, Figures, Target, database, env_file, free_port, measure, post_json, report, serve

from waxos.auth.models import Membership, Role, User, Workspace
from waxos.auth.tokens import issue_access_token
from waxos.db.base import utcnow
from waxos.db.engine import make_engine, make_sessionmaker, transaction
from waxos.db.migrate import upgrade
from waxos.inbox.models import Chat

SIGNING_KEY = "bench-signing-key-not-secret-0123456789"
WITHOUT_EVENT = (
    "import waxos.inbox.outbox as outbox\n"
    "async def _skip(self, session):\n"
    "    self._events.clear()\n"
    "outbox.Outbox.emit = _skip"
)


async def prepare(database_url: str, workspaces: int) -> tuple[int, int, list[int]]:
    """Migrate; an agent with a chat in each of `workspaces` workspaces; the agent's id and token
    generation, and the chats."""
    await upgrade(database_url)
    engine = make_engine(database_url)
    try:
        hashed = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("bench-password")
        async with transaction(make_sessionmaker(engine)) as session:
            agent = User(email="agent@bench.test", name="Bench Agent", password_hash=hashed)
            teams = [Workspace(name=f"Team {n}") for n in range(workspaces)]
            session.add_all([agent, *teams])
            await session.flush()
            chats = [
                Chat(workspace_id=t.id, customer_name="Customer", customer_handle="+1555") for t in teams
            ]
            session.add_all(
                [*chats, *(Membership(user_id=agent.id, workspace_id=t.id, role=Role.AGENT) for t in teams)]
            )
            await session.flush()
            return agent.id, agent.token_generation, [chat.id for chat in chats]
    finally:
        await engine.dispose()


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres", metavar="URL", help="PostgreSQL to create the throw-away database beside"
    )
    parser.add_argument(
        "--workspaces", type=int, default=50, help="chats (each in its own workspace) to go round"
    )
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per variant")
    parser.add_argument("--warmup", type=float, default=2.0)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp, database(args.postgres, tmp) as database_url:
        agent_id, generation, chats = asyncio.run(prepare(database_url, args.workspaces))
        settings = env_file(Path(tmp) / "bench.env", database_url, WAXOS_SECRET_KEY=SIGNING_KEY)
        token = issue_access_token(agent_id, generation, SIGNING_KEY, timedelta(hours=1), utcnow())
        body = {"body": "Hello from the bench", "direction": "outbound"}
        spread = tuple(post_json(f"/api/v1/chats/{chat}/messages", body, token) for chat in chats)
        one = spread[:1]
        n = len(chats)
        load_before = os.getloadavg()[0]
        results: list[tuple[Figures, float]] = []
        for name, requests, prelude in (
            (f"{n} chats, with message.new", spread, None),
            (f"{n} chats, without the event (emit a no-op)", spread, WITHOUT_EVENT),
            ("one chat, with message.new", one, None),
            (f"{n} chats, with message.new (again)", spread, None),
        ):
            port = free_port()
            with serve(settings, port, prelude, WAXOS_RUN_RELAY="false") as pid:
                results.append(
                    asyncio.run(
                        measure(
                            port, pid, Target(name, requests), args.concurrency, args.duration, args.warmup
                        )
                    )
                )
        with_event = [results[0], results[3]]
        without, without_cpu = results[1]
        added_p50 = min(r.percentile(50) for r, _ in with_event) - without.percentile(50)
        added_p99 = min(r.percentile(99) for r, _ in with_event) - without.percentile(99)
        added_cpu = min(cpu for _, cpu in with_event) - without_cpu
        report(
            sys.argv,
            database_url,
            load_before,
            [
                f"1 uvicorn worker, relay off, concurrency {args.concurrency}, "
                f"{args.duration:g} s per variant; POST /api/v1/chats/{{id}}/messages\n",
                HEADER,
                *(figures.row(cpu) for figures, cpu in results),
                f"\nadded by the event (best of the two runs with it): p50 {added_p50:+.2f} ms, "
                f"p99 {added_p99:+.2f} ms; the server's CPU {added_cpu:+.0f} µs per request",
                "targets (issue 10): >= 1,000 req/s with p99 < 25 ms on PostgreSQL; "
                "the event adds < 1 ms at p50",
            ],
        )


if __name__ == "__main__":
    main()
