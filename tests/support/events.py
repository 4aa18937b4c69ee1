"""Test helpers for the event log and relay: sample events, a stand-in Pusher API, log readers.

A pytest plugin too (registered in tests/conftest.py): the `fake` fixture serves a `FakePusher`.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.support.settings import make_settings
from waxos.db.engine import transaction
from waxos.events import Envelope, MessageNew, emit_many
from waxos.events.tables import LoggedEvent
from waxos.publisher.service import PusherService
from waxos.relay.relay import Relay, RelayConfig

CHATS = "private-workspace-1.chats"
OTHER = "private-workspace-2.chats"


def message(n: int = 1) -> MessageNew:
    """A small catalogued event."""
    return MessageNew(chat_id=1, message_id=n, direction="inbound", sender_type="contact")


async def emit_messages(
    sessions: async_sessionmaker[AsyncSession], channel: str, count: int
) -> list[Envelope]:
    """Emit `count` messages on `channel` in one transaction."""
    async with transaction(sessions) as session:
        return await emit_many(session, channel, [message(n) for n in range(1, count + 1)])


async def log_rows(sessions: async_sessionmaker[AsyncSession]) -> list[LoggedEvent]:
    """Every logged event, by channel and seq."""
    async with sessions() as session:
        return list(await session.scalars(select(LoggedEvent).order_by(LoggedEvent.channel, LoggedEvent.seq)))


@dataclass(frozen=True)
class Reply:
    """A scripted answer of the stand-in Pusher API."""

    status: int = 200
    text: str = "{}"
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Received:
    """A request as the stand-in received it (what a script looks at)."""

    method: str
    path: str
    params: Mapping[str, str]
    content: bytes
    peer: object = None  # the client's address: one per connection


Answer = Callable[[Received], Awaitable[Reply] | Reply]


def scripted(code: int, headers: Mapping[str, str] | None = None) -> Reply:
    """A scripted non-200 answer."""
    return Reply(code, f"scripted {code}", headers or {})


class StandIn:
    """An HTTP server on 127.0.0.1 in the test's event loop, answering with `handler`.

    Tests run the publisher's real transport against it (the seam is the URL): nothing in the HTTP path is
    replaced for tests.
    """

    def __init__(self, handler: Callable[[Received], Awaitable[Reply]]) -> None:
        self._handler = handler
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        """Listen on a free port."""
        app = web.Application()
        app.router.add_route("*", "/{path:.*}", self._serve)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=0.1)
        await self._runner.setup()
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        self.port = listener.getsockname()[1]
        await web.SockSite(self._runner, listener).start()

    async def close(self) -> None:
        """Stop listening and close every connection."""
        if self._runner is not None:
            await self._runner.cleanup()

    async def _serve(self, request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        received = Received(request.method, request.path, dict(request.query), await request.read(), peer)
        reply = await self._handler(received)
        return web.Response(status=reply.status, text=reply.text, headers=dict(reply.headers))


@dataclass
class FakePusher:
    """Pusher's batch and terminate-connections endpoints on a real socket: records what it accepted,
    answers as scripted.

    `script` holds answers for the next requests (then 200s); a request that is not answered 200 is not
    recorded as received. Use the `fake` fixture, which serves it for the test.
    """

    script: list[Answer] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    times: list[float] = field(default_factory=list)
    batch_sizes: list[int] = field(default_factory=list)
    port: int = 0
    publishers: list[PusherService] = field(default_factory=list)
    # User ids whose connections were terminated, and every accepted call in order ("batch" / "terminate").
    terminated: list[str] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)

    async def __call__(self, request: Received) -> Reply:
        self.requests += 1
        self.times.append(time.monotonic())
        if self.script:
            answer = self.script.pop(0)(request)
            reply = await answer if inspect.isawaitable(answer) else answer
            assert isinstance(reply, Reply)
            if reply.status != 200:
                return reply
        if request.method == "GET":  # a signed read (the relay's check that the endpoint answers)
            self.calls.append("read")
            return Reply(200, '{"channels": {}}')
        if request.path.endswith("/terminate_connections"):
            self.terminated.append(request.path.split("/")[-2])
            self.calls.append("terminate")
            return Reply()
        batch = json.loads(request.content)["batch"]
        self.batch_sizes.append(len(batch))
        self.calls.append("batch")
        for item in batch:
            envelope = json.loads(item["data"])
            self.received.append(
                {
                    "name": item["name"],
                    "channel": item["channel"],
                    "socket_id": item.get("socket_id"),
                    **envelope,
                }
            )
        return Reply()

    def seqs(self, channel: str) -> list[int]:
        """The seqs received on `channel`, in arrival order."""
        return [event["seq"] for event in self.received if event["channel"] == channel]


@pytest.fixture
async def fake() -> AsyncIterator[FakePusher]:
    """A `FakePusher` served on 127.0.0.1 for the test (set its `script` to make it fail)."""
    stand_in = FakePusher()
    server = StandIn(stand_in)
    await server.start()
    stand_in.port = server.port
    try:
        yield stand_in
    finally:
        for publisher in stand_in.publishers:
            await publisher.aclose()
        await server.close()


def publisher_for(fake: FakePusher, **overrides: object) -> PusherService:
    """A PusherService whose requests go to `fake`'s server (closed with the `fake` fixture)."""
    values: dict[str, object] = {"pusher_port": fake.port, **overrides}
    publisher = PusherService(make_settings("sqlite+aiosqlite:///unused.db", **values))
    fake.publishers.append(publisher)
    return publisher


def relay_for(engine: AsyncEngine, fake: FakePusher, **config: Any) -> Relay:
    """A relay on `engine` publishing to `fake`, with quick backoff for tests."""
    values: dict[str, Any] = {"base_delay": 0.05, "max_delay": 0.4, "sweep_seconds": 0.5}
    values.update(config)
    return Relay(engine, publisher_for(fake), RelayConfig(**values))


async def until(condition: Callable[[], bool], seconds: float = 20.0) -> None:
    """Wait (polling every 10 ms) until `condition()` holds; fail after a generous deadline."""
    async with asyncio.timeout(seconds):
        while not condition():
            await asyncio.sleep(0.01)


async def until_delivered(
    sessions: async_sessionmaker[AsyncSession], count: int, seconds: float = 30.0
) -> None:
    """Wait until `count` logged events are marked delivered; fail after a generous deadline."""
    async with asyncio.timeout(seconds):
        while sum(row.delivered_at is not None for row in await log_rows(sessions)) < count:
            await asyncio.sleep(0.02)
