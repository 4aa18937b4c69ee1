"""The events one inbox change causes, collected while it runs and emitted together at its end.

`emit` takes each channel's head row lock until commit, so two transactions emitting on the same two
channels in opposite orders could deadlock on PostgreSQL. Emitting every change's events last, channel by
channel in name order (each channel's events in the order they were added), rules that out and keeps the
locks for the shortest time, as `waxos.events.writer` asks.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from waxos.events import Event, emit_many


class Outbox:
    """Events to emit, by channel, in the order added; `socket_id` is the requesting connection, which
    Pusher leaves out of their live delivery (the request's answer tells it what changed)."""

    def __init__(self, socket_id: str | None = None) -> None:
        self._events: dict[str, list[Event]] = {}
        self.socket_id = socket_id

    def add(self, channels: str | Iterable[str], event: Event) -> None:
        """Queue `event` on each of `channels` (a channel named twice gets it once)."""
        for channel in [channels] if isinstance(channels, str) else dict.fromkeys(channels):
            self._events.setdefault(channel, []).append(event)

    def __len__(self) -> int:
        return sum(len(events) for events in self._events.values())

    async def emit(self, session: AsyncSession) -> None:
        """Log every queued event in the session's transaction, channels in name order; then forget them."""
        for channel in sorted(self._events):
            await emit_many(session, channel, self._events[channel], socket_id=self.socket_id)
        self._events.clear()
