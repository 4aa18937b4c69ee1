"""Test helpers for the event log and relay: sample events, an in-memory Pusher API, log readers."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.support.accounts import make_settings
from waxos.db.engine import transaction
from waxos.events import Envelope, MessageNew, emit_many
from waxos.events.tables import LoggedEvent
from waxos.publisher.service import PusherService
from waxos.relay.relay import Relay, RelayConfig

CHATS = "private-workspace-1.chats"
OTHER = "private-workspace-2.chats"

Answer = Callable[[httpx.Request], Awaitable[httpx.Response] | httpx.Response]


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


@dataclass
class FakePusher:
    """Pusher's batch endpoint in memory: records what it accepted, answers as scripted.

    `script` holds answers for the next requests (then 200s); a request that is not answered 200 is not
    recorded as received.
    """

    script: list[Answer] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    requests: int = 0
    times: list[float] = field(default_factory=list)
    batch_sizes: list[int] = field(default_factory=list)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        self.times.append(time.monotonic())
        if self.script:
            answer = self.script.pop(0)(request)
            response = await answer if asyncio.iscoroutine(answer) else answer
            assert isinstance(response, httpx.Response)
            if response.status_code != 200:
                return response
        batch = json.loads(request.content)["batch"]
        self.batch_sizes.append(len(batch))
        for item in batch:
            envelope = json.loads(item["data"])
            self.received.append({"name": item["name"], "channel": item["channel"], **envelope})
        return httpx.Response(200, json={})

    def seqs(self, channel: str) -> list[int]:
        """The seqs received on `channel`, in arrival order."""
        return [event["seq"] for event in self.received if event["channel"] == channel]


def publisher_for(fake: FakePusher, **overrides: object) -> PusherService:
    """A PusherService whose HTTP goes to `fake`."""
    client = httpx.AsyncClient(transport=httpx.MockTransport(fake))
    return PusherService(make_settings("sqlite+aiosqlite:///unused.db", **overrides), http=client)


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
