"""The relay's work queue: read undelivered events, mark them delivered, measure the backlog."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Select, Table, and_, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from waxos.events.tables import LoggedEvent
from waxos.relay import leases
from waxos.relay.leases import Candidate, RelayLease

_events = cast(Table, LoggedEvent.__table__)


@dataclass(frozen=True, slots=True)
class PendingEvent:
    """An undelivered event as the relay needs it."""

    channel: str
    seq: int
    type: str
    payload: str
    occurred_at: datetime
    # The connection that caused the event, which Pusher leaves out (None: everyone gets it).
    socket_id: str | None = None


async def work(
    session: AsyncSession,
    owner: str,
    limit: int,
    per_channel: int,
    exclude: Sequence[str] = (),
) -> tuple[list[Candidate], list[PendingEvent]]:
    """`channels_to_claim` and `undelivered` of those channels as one statement: one trip per round.

    A read, for the relay's read-only rounds; when a lease needs taking or renewing, the relay claims
    and reads again under the write lock. Each candidate carries the database's time of this statement.
    """
    rows = await session.execute(_work_query(limit, per_channel), leases.candidate_parameters(owner, exclude))
    found: dict[str, Candidate] = {}
    pending = []
    for channel, mine_until, now, seq, type_, payload, occurred_at, socket_id in rows:
        if channel not in found:
            found[channel] = Candidate(channel, mine_until, now)
        pending.append(PendingEvent(channel, seq, type_, payload, occurred_at, socket_id))
    return list(found.values()), pending


@cache
def _work_query(limit: int, per_channel: int) -> Select[Any]:
    """The statement behind `work`, built once per limit (its parameters: `candidate_parameters`)."""
    candidates = leases.candidates_query(limit).cte("candidates")
    numbered = (
        select(
            LoggedEvent.channel,
            LoggedEvent.seq,
            LoggedEvent.type,
            LoggedEvent.payload,
            LoggedEvent.occurred_at,
            LoggedEvent.socket_id,
            func.row_number()
            .over(partition_by=LoggedEvent.channel, order_by=LoggedEvent.seq)
            .label("position"),
        )
        .join(candidates, candidates.c.channel == LoggedEvent.channel)
        .where(LoggedEvent.delivered_at.is_(None))
        .subquery()
    )
    return (
        select(
            candidates.c.channel,
            candidates.c.mine_until,
            candidates.c.now,
            numbered.c.seq,
            numbered.c.type,
            numbered.c.payload,
            numbered.c.occurred_at,
            numbered.c.socket_id,
        )
        .join(numbered, numbered.c.channel == candidates.c.channel)
        .where(numbered.c.position <= per_channel)
        .order_by(candidates.c.channel, numbered.c.seq)
    )


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
            LoggedEvent.socket_id,
            func.row_number()
            .over(partition_by=LoggedEvent.channel, order_by=LoggedEvent.seq)
            .label("position"),
        )
        .where(LoggedEvent.delivered_at.is_(None), LoggedEvent.channel.in_(channels))
        .subquery()
    )
    rows = await session.execute(
        select(
            numbered.c.channel,
            numbered.c.seq,
            numbered.c.type,
            numbered.c.payload,
            numbered.c.occurred_at,
            numbered.c.socket_id,
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
    held = set(await session.scalars(_HELD_LEASES, {"owner": owner, "channels": sorted(ranges)}))
    if held:
        await session.execute(
            _MARK.values(delivered_at=now),
            [
                {"b_channel": channel, "b_first": first, "b_last": last}
                for channel, (first, last) in ranges.items()
                if channel in held
            ],
        )
    return sorted(set(ranges) - held)


# Built once (as the relay's read is): building them cost a round about as much as running them.
_HELD_LEASES = (
    select(RelayLease.channel)
    .where(
        RelayLease.channel.in_(bindparam("channels", expanding=True)), RelayLease.owner == bindparam("owner")
    )
    .order_by(RelayLease.channel)
    .with_for_update()
)
_MARK = update(_events).where(
    and_(
        _events.c.channel == bindparam("b_channel"),
        _events.c.seq.between(bindparam("b_first"), bindparam("b_last")),
        _events.c.delivered_at.is_(None),
    )
)


async def backlog(session: AsyncSession) -> tuple[int, datetime | None]:
    """How many events are undelivered, and when the oldest of them occurred."""
    row = (
        await session.execute(
            select(func.count(), func.min(LoggedEvent.occurred_at)).where(LoggedEvent.delivered_at.is_(None))
        )
    ).one()
    count, oldest = row
    return int(count), oldest
