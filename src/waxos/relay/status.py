"""Each relay's health, written to the database every few seconds so any API instance can show it.

A relay's breaker, failures and counts live in its own process; the console's Relay page (and an
operator on another machine) reads them from here. A relay deletes its row when it stops cleanly; a row
whose heartbeat is old belongs to a relay that died, and is shown as such.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import BigInteger, Integer, String, Text, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from waxos.db.base import Base, UTCDateTime

_Count = BigInteger().with_variant(Integer(), "sqlite")
# Rows of relays that died are kept this long for the console, then removed by the next report.
FORGET_AFTER = timedelta(days=1)


class RelayStatus(Base):
    """One relay process as it last reported itself."""

    __tablename__ = "relay_status"

    owner: Mapped[str] = mapped_column(String(100), primary_key=True)
    provider: Mapped[str] = mapped_column(String(50))
    endpoint: Mapped[str] = mapped_column(String(300))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    breaker: Mapped[str] = mapped_column(String(16))
    consecutive_failures: Mapped[int] = mapped_column(Integer)
    retry_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered: Mapped[int] = mapped_column(_Count)
    rejected: Mapped[int] = mapped_column(_Count)
    # {"failure kind": requests failed so far}, as JSON.
    failures: Mapped[str] = mapped_column(Text)


@dataclass(frozen=True, slots=True)
class RelaySnapshot:
    """What a relay reports about itself."""

    owner: str
    provider: str
    endpoint: str
    started_at: datetime
    breaker: str
    consecutive_failures: int
    retry_at: datetime | None
    delivered: int
    rejected: int
    failures: Mapping[str, int]


async def report(session: AsyncSession, snapshot: RelaySnapshot, now: datetime) -> None:
    """Write `snapshot` as the relay's row, and drop rows of relays silent for `FORGET_AFTER`."""
    values = {
        "owner": snapshot.owner,
        "provider": snapshot.provider,
        "endpoint": snapshot.endpoint,
        "started_at": snapshot.started_at,
        "heartbeat_at": now,
        "breaker": snapshot.breaker,
        "consecutive_failures": snapshot.consecutive_failures,
        "retry_at": snapshot.retry_at,
        "delivered": snapshot.delivered,
        "rejected": snapshot.rejected,
        "failures": json.dumps(dict(sorted(snapshot.failures.items()))),
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(RelayStatus).values(values)
    await session.execute(
        insert.on_conflict_do_update(
            index_elements=[RelayStatus.owner], set_={k: v for k, v in values.items() if k != "owner"}
        )
    )
    await session.execute(delete(RelayStatus).where(RelayStatus.heartbeat_at < now - FORGET_AFTER))


async def forget(session: AsyncSession, owner: str) -> None:
    """Remove the row of a relay that stops cleanly."""
    await session.execute(delete(RelayStatus).where(RelayStatus.owner == owner))


async def statuses(session: AsyncSession) -> list[RelayStatus]:
    """Every relay's last report, most recent heartbeat first."""
    return list(await session.scalars(select(RelayStatus).order_by(RelayStatus.heartbeat_at.desc())))
