"""Ending a user's live connections through the log: requests written with the change, sent by the relay.

When access ends (a member removed, a user deleted), the channel policy refuses new subscriptions at
once, but connections already subscribed keep receiving until Pusher closes them. `terminate_connections`
records the request in the caller's transaction, like `emit`: it exists only if the change commits, and
the relay sends Pusher's terminate-user-connections for it (which needs clients to sign in) and then
forgets it. One row per user: a second request before the relay got to the first just moves its time.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import cast

from sqlalchemy import BigInteger, Executable, Index, Integer, Table, delete, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from waxos.db.base import Base, UTCDateTime, utcnow

_UserId = BigInteger().with_variant(Integer(), "sqlite")


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
        cast(Table, UserTermination.__table__)
    )
    statement = insert.on_conflict_do_update(
        index_elements=["user_id"], set_={"requested_at": insert.excluded.requested_at}
    )
    return cast(Executable, statement)


async def terminate_connections(session: AsyncSession, user_id: int) -> None:
    """Have the relay close every live connection of `user_id` once this transaction commits."""
    statement = _upsert(session.get_bind().dialect.name)
    await session.execute(statement, {"user_id": user_id, "requested_at": utcnow()})


async def pending(session: AsyncSession, limit: int) -> list[Termination]:
    """The oldest pending requests, at most `limit`."""
    rows = await session.execute(
        select(UserTermination.user_id, UserTermination.requested_at)
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
