"""Roll-ups: recount a UTC hour's events from the log, and keep the hour's peak of live counts.

Both write with "the greater of what is stored and what was measured", so any number of recorders may
roll up the same hour at any time: the result is the same, and a recount of an hour the log has started
to prune (events older than the retention period) never lowers what an earlier count saw.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import Executable, case, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from waxos.events.tables import LoggedEvent
from waxos.usage.tables import NO_WORKSPACE, UsageHour

HOUR = timedelta(hours=1)
_EVENT_COUNTS = ("events", "chat_messages", "pusher_messages")
_PEAKS = ("connections_peak", "subscriptions_peak", "presence_peak")


@dataclass(frozen=True, slots=True)
class LiveCounts:
    """A workspace's live usage at one moment: open connections, channel subscriptions, presence members."""

    connections: int = 0
    subscriptions: int = 0
    presence_members: int = 0


def hour_of(moment: datetime) -> datetime:
    """The UTC hour `moment` falls in."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _id_floor(moment: datetime) -> str:
    """The smallest event id (UUIDv7, text) that can have been made at or after `moment`.

    A UUIDv7 starts with its creation time in milliseconds, in hex, so ids sort by time as text: an hour's
    events are a range of the log's unique index on `id`. Counting by `occurred_at` instead would need an
    index of its own, paid on every emit.
    """
    millis = int(moment.timestamp() * 1000)
    return str(uuid.UUID(int=millis << 80))[:13]  # "xxxxxxxx-xxxx": the 48-bit time, nothing after it


async def count_hour(
    session: AsyncSession, hour: datetime, subscribers: Mapping[str, int]
) -> dict[int, tuple[int, int, int]]:
    """Per workspace: (events, chat messages, estimated Pusher messages) logged in `hour`.

    `subscribers` is each channel's subscriber count now; an event reaches that many (an estimate for
    past hours: Pusher does not tell us who was subscribed then).
    """
    rows = await session.execute(
        select(
            LoggedEvent.channel,
            LoggedEvent.workspace_id,
            func.count(),
            func.sum(case((LoggedEvent.type == "message.new", 1), else_=0)),
        )
        .where(LoggedEvent.id >= _id_floor(hour), LoggedEvent.id < _id_floor(hour + HOUR))
        .group_by(LoggedEvent.channel, LoggedEvent.workspace_id)
    )
    totals: dict[int, tuple[int, int, int]] = {}
    for channel, workspace_id, events, chat in rows:
        key = NO_WORKSPACE if workspace_id is None else int(workspace_id)
        before = totals.get(key, (0, 0, 0))
        reach = int(events) * (1 + subscribers.get(channel, 0))
        totals[key] = (before[0] + int(events), before[1] + int(chat or 0), before[2] + reach)
    return totals


async def roll_up(session: AsyncSession, hours: Iterable[datetime], subscribers: Mapping[str, int]) -> int:
    """Recount `hours` from the log into `usage_hourly`; return how many rows were written."""
    written = 0
    for hour in sorted({hour_of(h) for h in hours}):
        counts = await count_hour(session, hour, subscribers)
        rows = [
            {"workspace_id": workspace_id, "hour": hour, **dict(zip(_EVENT_COUNTS, values, strict=True))}
            for workspace_id, values in sorted(counts.items())
        ]
        if rows:
            await session.execute(_upsert(session, _EVENT_COUNTS), rows)
            written += len(rows)
    return written


async def record_live(session: AsyncSession, moment: datetime, counts: Mapping[int, LiveCounts]) -> None:
    """Raise the peaks of `moment`'s hour to `counts` where they are higher."""
    hour = hour_of(moment)
    rows = [
        {
            "workspace_id": workspace_id,
            "hour": hour,
            "connections_peak": live.connections,
            "subscriptions_peak": live.subscriptions,
            "presence_peak": live.presence_members,
        }
        for workspace_id, live in sorted(counts.items())
    ]
    if rows:
        await session.execute(_upsert(session, _PEAKS), rows)


async def pusher_messages_on(session: AsyncSession, moment: datetime) -> int:
    """Estimated Pusher messages of every workspace on `moment`'s UTC day (Pusher counts per UTC day)."""
    day = hour_of(moment).replace(hour=0)
    total = await session.scalar(
        select(func.sum(UsageHour.pusher_messages)).where(
            UsageHour.hour >= day, UsageHour.hour < day + timedelta(days=1)
        )
    )
    return int(total or 0)


async def oldest_logged(session: AsyncSession) -> datetime | None:
    """When the oldest event still in the log was made (from its id: an index lookup, no scan)."""
    first = await session.scalar(select(func.min(LoggedEvent.id)))
    if first is None:
        return None
    return datetime.fromtimestamp((uuid.UUID(first).int >> 80) / 1000, UTC)


def _upsert(session: AsyncSession, columns: tuple[str, ...]) -> Executable:
    return _upsert_statement(session.get_bind().dialect.name, columns)


@cache
def _upsert_statement(dialect: str, columns: tuple[str, ...]) -> Executable:
    """INSERT … ON CONFLICT DO UPDATE SET column = the greater of stored and new, for `columns`."""
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(UsageHour)
    greater: Any = func.greatest if dialect == "postgresql" else func.max  # SQLite's two-argument max()
    table = UsageHour.__table__.c
    statement = insert.on_conflict_do_update(
        index_elements=[UsageHour.workspace_id, UsageHour.hour],
        set_={name: greater(table[name], insert.excluded[name]) for name in columns},
    )
    return cast(Executable, statement)
