"""Benchmark: what emitting an event adds to a request, against no event and a synchronous `trigger`.

Run:  .venv/bin/python bench/emit_latency.py [--database-url URL] [--requests 2000]

Three otherwise identical routes insert one row in one transaction: `plain` does only that, `emit` also
logs an event with `emit()` (the relay is off: delivery is not on the request path), `trigger` instead
awaits `PusherService.trigger` to the local Pusher server inside the request (what D2 forbids). Requests
go through the full ASGI stack in-process, one at a time, the three routes interleaved.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import time
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from sqlalchemy import Column, Integer, MetaData, String, Table, insert

sys.path.insert(0, str(Path(__file__).resolve().parent))

from relay_stack import database, describe_database, local_pusher_server, percentile, settings_for

from waxos.api.deps import SessionDep
from waxos.app import create_app
from waxos.db.migrate import upgrade
from waxos.events import MessageNew, emit

notes = Table("bench_notes", MetaData(), Column("id", Integer, primary_key=True), Column("text", String(50)))
CHANNEL = "private-workspace-1.chats"
EVENT = MessageNew(chat_id=1, message_id=2, direction="inbound", sender_type="contact")


def build(url: str, port: int) -> FastAPI:
    app = create_app(settings_for(url, port))

    @app.post("/plain")
    async def plain(session: SessionDep) -> dict[str, bool]:
        await session.execute(insert(notes).values(text="hello"))
        return {"ok": True}

    @app.post("/emit")
    async def with_emit(session: SessionDep) -> dict[str, bool]:
        await session.execute(insert(notes).values(text="hello"))
        await emit(session, CHANNEL, EVENT)
        return {"ok": True}

    @app.post("/trigger")
    async def with_trigger(session: SessionDep, request: Request) -> dict[str, bool]:
        await session.execute(insert(notes).values(text="hello"))
        result = await request.app.state.pusher.trigger(CHANNEL, EVENT.type, EVENT.data())
        return {"ok": result.ok}

    return app


async def measure(url: str, port: int, requests: int) -> dict[str, list[float]]:
    await upgrade(url)
    app = build(url, port)
    samples: dict[str, list[float]] = {"plain": [], "emit": [], "trigger": []}
    async with app.router.lifespan_context(app):
        async with app.state.engine.begin() as connection:
            await connection.run_sync(notes.metadata.create_all)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for round_number in range(requests + 100):
                for route in samples:
                    started = time.perf_counter()
                    response = await client.post(f"/{route}")
                    elapsed = (time.perf_counter() - started) * 1000
                    assert response.status_code == 200 and response.json()["ok"], response.text
                    if round_number >= 100:  # the first hundred warm up caches and connections
                        samples[route].append(elapsed)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    with database(args.database_url) as url, local_pusher_server() as port:
        samples = asyncio.run(measure(url, port, args.requests))
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print("load average (1, 5, 15 min) at the end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(f"machine: {platform.machine()}, python {platform.python_version()}")
    print(f"database: {describe_database(url)}")
    p50 = {route: percentile(values, 0.5) for route, values in samples.items()}
    p99 = {route: percentile(values, 0.99) for route, values in samples.items()}
    for route in samples:
        print(
            f"{route:>8}: p50 {p50[route]:6.2f} ms  p99 {p99[route]:6.2f} ms  "
            f"({len(samples[route])} requests)"
        )
    for route in ("emit", "trigger"):
        added_p50, added_p99 = p50[route] - p50["plain"], p99[route] - p99["plain"]
        print(f"{route} adds: p50 {added_p50:+.2f} ms  p99 {added_p99:+.2f} ms")


if __name__ == "__main__":
    main()
