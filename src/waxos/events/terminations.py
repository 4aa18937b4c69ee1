"""Ending a user's live connections through the log: requests written with the change, sent by the relay.

When access ends (a member removed, a user deleted), the channel policy refuses new subscriptions at
once, but connections already subscribed keep receiving until Pusher closes them. `terminate_connections`
records the request in the caller's transaction, like `emit`: it exists only if the change commits, and
the relay sends Pusher's terminate-user-connections for it (which needs clients to sign in) and then
forgets it. One row per user: a second request before the relay got to the first just moves its time.

A request is due once no event on the user's own channel (`member.removed`, logged with it) is waiting
to be delivered, whichever relay delivers it: the client learns why it is disconnected before it is. A
request waits at most `MAX_WAIT`: if the user's channel cannot be delivered (Pusher down for it alone),
the connections are closed anyway; new subscriptions were refused from the commit on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import cast as typed

from sqlalchemy import (
    BigInteger,
    Executable,
    Index,
    Integer,
    String,
    Table,
    cast,
    delete,
    exists,
    literal,
    or_,
    select,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from waxos.channels.names import user_channel
from waxos.db.base import Base, UTCDateTime, utcnow
from waxos.events.tables import LoggedEvent

_UserId = BigInteger().with_variant(Integer(), "sqlite")
# How long a request waits for the events on the user's channel to be delivered before it goes anyway.
MAX_WAIT = timedelta(seconds=10)
# The user's channel, `private-user-{id}`, in SQL.
_USER_CHANNEL_PREFIX = user_channel(1).removesuffix("1")


class UserTermination(Base):
    """A user whose live connections must be closed."""

    __tablename__ = "realtime_user_terminations"
    __table_args__ = (Index("ix_realtime_user_terminations_requested_at", "requested_at"),)

    user_id: Mapped[int] = mapped_column(_UserId, primary_key=True, autoincrement=False)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)


@dataclass(frozen=True, slots=True)
class Termination:
    """One pending request, as the relay reads it."""

    user_id: int
    requested_at: datetime


@cache
def _upsert(dialect: str) -> Executable:
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(
        typed(Table, UserTermination.__table__)
    )
    statement = insert.on_conflict_do_update(
        index_elements=["user_id"], set_={"requested_at": insert.excluded.requested_at}
    )
    return typed(Executable, statement)


async def terminate_connections(session: AsyncSession, user_id: int) -> None:
    """Have the relay close every live connection of `user_id` once this transaction commits."""
    statement = _upsert(session.get_bind().dialect.name)
    await session.execute(statement, {"user_id": user_id, "requested_at": utcnow()})


async def pending(session: AsyncSession, limit: int, now: datetime | None = None) -> list[Termination]:
    """The oldest due requests, at most `limit`: nothing undelivered on the user's channel, or waited
    `MAX_WAIT` already."""
    user_channel_sql = literal(_USER_CHANNEL_PREFIX, String) + cast(UserTermination.user_id, String)
    undelivered = exists().where(LoggedEvent.channel == user_channel_sql, LoggedEvent.delivered_at.is_(None))
    rows = await session.execute(
        select(UserTermination.user_id, UserTermination.requested_at)
        .where(or_(~undelivered, UserTermination.requested_at <= (now or utcnow()) - MAX_WAIT))
        .order_by(UserTermination.requested_at)
        .limit(limit)
    )
    return [Termination(user_id, requested_at) for user_id, requested_at in rows]


async def forget(session: AsyncSession, done: list[Termination]) -> None:
    """Drop requests that were sent, unless a newer one for the same user arrived meanwhile."""
    if done:
        await session.execute(
            delete(UserTermination).where(
                tuple_(UserTermination.user_id, UserTermination.requested_at).in_(
                    [(t.user_id, t.requested_at) for t in done]
                )
            )
        )
