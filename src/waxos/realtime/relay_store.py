"""The relay's queries: find channels with undelivered events, lease them, read them, mark them delivered.

Leases make several relays share one database safely: a channel is published by the one relay holding
its unexpired lease, so its events leave in `seq` order and, in normal operation, once. A relay that dies
keeps its leases until they expire; then another takes over and re-sends whatever was in flight
(at-least-once; clients drop duplicates by `seq`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, and_, bindparam, case, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from waxos.realtime.log import LoggedEvent, RelayLease

_events = cast(Table, LoggedEvent.__table__)


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """An undelivered event as the relay needs it."""

    channel: str
    seq: int
    type: str
    payload: str
    occurred_at: datetime


@dataclass(frozen=True, slots=True)
class Candidate:
    """A channel with undelivered events that no other relay holds; `mine_until` if we lease it."""

    channel: str
    mine_until: datetime | None


async def channels_to_claim(session: AsyncSession, owner: str, now: datetime, limit: int) -> list[Candidate]:
    """Channels with undelivered events that no other relay holds, oldest work first.

    A read: it can run in a read-only transaction, so a relay whose leases are all fresh can look for
    work without taking SQLite's write lock.
    """
    # One lease row per channel at most, so grouping by its columns keeps one row per channel.
    mine_until = case((RelayLease.owner == owner, RelayLease.expires_at), else_=None)
    query = (
        select(LoggedEvent.channel, mine_until)
        .outerjoin(RelayLease, RelayLease.channel == LoggedEvent.channel)
        .where(
            LoggedEvent.delivered_at.is_(None),
            or_(RelayLease.channel.is_(None), RelayLease.expires_at < now, RelayLease.owner == owner),
        )
        .group_by(LoggedEvent.channel, RelayLease.owner, RelayLease.expires_at)
        .order_by(func.min(LoggedEvent.occurred_at))
        .limit(limit)
    )
    return [Candidate(channel, until) for channel, until in await session.execute(query)]


async def claim(
    session: AsyncSession, channels: Sequence[str], owner: str, now: datetime, until: datetime
) -> list[str]:
    """Take or renew the lease on each channel that is free, expired or already ours; return those won.

    Channels are locked in sorted order, so relays claiming overlapping sets cannot deadlock.
    """
    if not channels:
        return []
    dialect = session.get_bind().dialect.name
    upsert = (postgresql if dialect == "postgresql" else sqlite).insert(RelayLease)
    statement = upsert.values(
        [{"channel": channel, "owner": owner, "expires_at": until} for channel in sorted(channels)]
    )
    statement = statement.on_conflict_do_update(
        index_elements=[RelayLease.channel],
        set_={"owner": statement.excluded.owner, "expires_at": statement.excluded.expires_at},
        where=or_(RelayLease.expires_at < now, RelayLease.owner == owner),
    )
    return list(await session.scalars(statement.returning(RelayLease.channel)))


async def release(session: AsyncSession, owner: str) -> None:
    """Give up every lease of `owner` (on a clean stop), so others need not wait for expiry."""
    await session.execute(delete(RelayLease).where(RelayLease.owner == owner))


async def undelivered(session: AsyncSession, channels: Sequence[str], per_channel: int) -> list[PendingEvent]:
    """Up to `per_channel` undelivered events of each channel, by channel then `seq`."""
    if not channels:
        return []
    numbered = (
        select(
            LoggedEvent.channel,
            LoggedEvent.seq,
            LoggedEvent.type,
            LoggedEvent.payload,
            LoggedEvent.occurred_at,
            func.row_number()
            .over(partition_by=LoggedEvent.channel, order_by=LoggedEvent.seq)
            .label("position"),
        )
        .where(LoggedEvent.delivered_at.is_(None), LoggedEvent.channel.in_(channels))
        .subquery()
    )
    rows = await session.execute(
        select(
            numbered.c.channel, numbered.c.seq, numbered.c.type, numbered.c.payload, numbered.c.occurred_at
        )
        .where(numbered.c.position <= per_channel)
        .order_by(numbered.c.channel, numbered.c.seq)
    )
    return [PendingEvent(*row) for row in rows]


async def mark_delivered(
    session: AsyncSession, ranges: Mapping[str, tuple[int, int]], now: datetime, owner: str
) -> list[str]:
    """Mark each channel's events `first..last` (inclusive) delivered, where `owner` still holds the lease.

    Returns the channels whose lease another relay has taken: those are not marked, and their new holder
    (re)sends them. A lease that expired but that nobody took is still ours to mark: no other relay can
    have sent these events, and marking them spares a needless second send. The leases checked stay locked
    until commit on PostgreSQL (SQLite's write transaction excludes every other writer), so none changes
    hands meanwhile.
    """
    if not ranges:
        return []
    held = set(
        await session.scalars(
            select(RelayLease.channel)
            .where(
                RelayLease.channel.in_(sorted(ranges)),
                RelayLease.owner == owner,
            )
            .order_by(RelayLease.channel)
            .with_for_update()
        )
    )
    if held:
        await session.execute(
            update(_events)
            .where(
                and_(
                    _events.c.channel == bindparam("b_channel"),
                    _events.c.seq.between(bindparam("b_first"), bindparam("b_last")),
                    _events.c.delivered_at.is_(None),
                )
            )
            .values(delivered_at=now),
            [
                {"b_channel": channel, "b_first": first, "b_last": last}
                for channel, (first, last) in ranges.items()
                if channel in held
            ],
        )
    return sorted(set(ranges) - held)


async def backlog(session: AsyncSession) -> tuple[int, datetime | None]:
    """How many events are undelivered, and when the oldest of them occurred."""
    row = (
        await session.execute(
            select(func.count(), func.min(LoggedEvent.occurred_at)).where(LoggedEvent.delivered_at.is_(None))
        )
    ).one()
    count, oldest = row
    return int(count), oldest
