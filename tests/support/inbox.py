"""Test helpers for the inbox: bearer headers, and the events a request logged."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.support.accounts import Api
from waxos.auth.models import User
from waxos.events.tables import LoggedEvent


def bearer(api: Api, user: User, socket_id: str | None = None) -> dict[str, str]:
    """Headers of a request by `user` (optionally from a pusher-js socket)."""
    headers = {"Authorization": f"Bearer {api.world.token(user)}"}
    if socket_id is not None:
        headers["X-Socket-ID"] = socket_id
    return headers


@dataclass(frozen=True)
class Logged:
    """One logged event, as the tests look at it."""

    channel: str
    type: str
    data: dict[str, Any]
    seq: int
    socket_id: str | None = None


class EventLog:
    """Reads the event log; `new()` returns what was logged since the previous call."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self.seen: set[str] = set()

    async def new(self) -> list[Logged]:
        """Events logged since the last call (each event once)."""
        async with self.sessions() as session:
            rows = list(await session.scalars(select(LoggedEvent).order_by(LoggedEvent.id)))
        fresh = [row for row in rows if row.id not in self.seen]
        self.seen.update(row.id for row in fresh)
        return [
            Logged(row.channel, row.type, json.loads(row.payload)["data"], row.seq, row.socket_id)
            for row in fresh
        ]

    async def new_types(self) -> list[tuple[str, str]]:
        """(channel, type) of the events logged since the last call, in log order."""
        return [(event.channel, event.type) for event in await self.new()]
