"""The provider table: one row saying which provider every API instance and relay uses, and since when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from waxos.db.base import Base, UTCDateTime

# The single row's key: the table holds exactly one row, created by the migration.
STATE_ROW = 1


class ProviderStateRow(Base):
    """The active provider and its epoch; a switch is a compare-and-set on `epoch`."""

    __tablename__ = "realtime_provider"

    # Always STATE_ROW, never generated (so not subject to `waxos.db.base.NEVER_REUSE_IDS`).
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    active: Mapped[str] = mapped_column(String(16))
    # Bumped by every switch: clients compare it to notice a switch and reconnect (D7).
    epoch: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # `initial`, `auto` (the relay's failover or failback) or `manual` (`waxos provider use`).
    changed_by: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
