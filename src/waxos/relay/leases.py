"""Relay leases: which relay publishes a channel until when, and the queries that take and give them up.

Leases make several relays share one database safely: a channel is published by the one relay holding
its unexpired lease, so its events leave in `seq` order and, in normal operation, once. A relay that dies
keeps its leases until they expire; then another takes over and re-sends whatever was in flight
(at-least-once; clients drop duplicates by `seq`).

Every lease decision is made on the database's clock (`database_now`), never on a relay's: the relays
are on different hosts, and a clock skewed by more than the lease would let one take another's fresh
lease, or send on a lease the database says has expired. The relay's monotonic clock only measures how
long a round has run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Select, String, bindparam, case, delete, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from waxos.db.base import Base, UTCDateTime
from waxos.events.tables import LoggedEvent
from waxos.pusher_protocol.limits import MAX_CHANNEL_NAME_LENGTH


class RelayLease(Base):
    """Which relay publishes a channel until when: one publisher per channel keeps its order."""

    __tablename__ = "realtime_relay_leases"

    channel: Mapped[str] = mapped_column(String(MAX_CHANNEL_NAME_LENGTH), primary_key=True)
    owner: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class database_now(FunctionElement[datetime]):
    """The database's current time, as a timezone-aware UTC datetime: the clock of every lease.

    PostgreSQL: `statement_timestamp()`, one value for the whole statement, taken when it arrives (so a
    lease's time left counts from no later than the relay's own start of the round). SQLite: the time in
    the text form `UTCDateTime` stores (`YYYY-MM-DD HH:MM:SS.ffffff`, millisecond precision), so that it
    compares with stored lease expiries as text, correctly.
    """

    type = UTCDateTime()
    inherit_cache = True


@compiles(database_now)
def _statement_timestamp(element: database_now, compiler: SQLCompiler, **kw: Any) -> str:
    return "statement_timestamp()"


@compiles(database_now, "sqlite")
def _sqlite_now(element: database_now, compiler: SQLCompiler, **kw: Any) -> str:
    return "strftime('%Y-%m-%d %H:%M:%f000', 'now')"


@dataclass(frozen=True, slots=True)
class Candidate:
    """A channel with undelivered events that no other relay holds; `mine_until` if we lease it.

    `now` is the database's time when the candidate was found: the `now` of every decision about it.
    """

    channel: str
    mine_until: datetime | None
    now: datetime


async def channels_to_claim(
    session: AsyncSession, owner: str, limit: int, exclude: Sequence[str] = ()
) -> list[Candidate]:
    """Channels with undelivered events that no other relay holds, oldest work first, except `exclude`.

    A read: it can run in a read-only transaction, so a relay whose leases are all fresh can look for
    work without taking SQLite's write lock.
    """
    rows = await session.execute(candidates_query(limit), candidate_parameters(owner, exclude))
    return [Candidate(channel, until, now) for channel, until, now in rows]


def candidate_parameters(owner: str, exclude: Sequence[str]) -> dict[str, Any]:
    """The values of `candidates_query`'s parameters."""
    return {"owner": owner, "exclude": list(exclude)}


@cache
def candidates_query(limit: int) -> Select[Any]:
    """The query behind `channels_to_claim`: (channel, mine_until, now) rows, oldest work first.

    Another relay's lease counts as expired by the database's clock, which the rows also carry as `now`.
    Built once per `limit`, with the relay's name and the channels it leaves out as parameters
    (`candidate_parameters`): building this statement cost a round more than running it.
    """
    owner = bindparam("owner", type_=String())
    # One lease row per channel at most, so grouping by its columns keeps one row per channel.
    mine_until = case((RelayLease.owner == owner, RelayLease.expires_at), else_=None).label("mine_until")
    return (
        select(LoggedEvent.channel, mine_until, database_now().label("now"))
        .outerjoin(RelayLease, RelayLease.channel == LoggedEvent.channel)
        .where(
            LoggedEvent.delivered_at.is_(None),
            or_(
                RelayLease.channel.is_(None),
                RelayLease.expires_at < database_now(),
                RelayLease.owner == owner,
            ),
            LoggedEvent.channel.not_in(bindparam("exclude", expanding=True)),
        )
        .group_by(LoggedEvent.channel, RelayLease.owner, RelayLease.expires_at)
        .order_by(func.min(LoggedEvent.occurred_at))
        .limit(limit)
    )


async def claim(
    session: AsyncSession, channels: Sequence[str], owner: str, now: datetime, until: datetime
) -> list[str]:
    """Take or renew the lease on each channel that is free, expired or already ours; return those won.

    `now` is the database's time (a `Candidate.now` read in this transaction) and `until` that plus the
    lease: a lease is expired by the database's clock, whatever the relay's says.
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
