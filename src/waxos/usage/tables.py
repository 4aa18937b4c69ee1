"""The usage table: one row per workspace and UTC hour, so the dashboard survives restarts and pruning."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer
from sqlalchemy.orm import Mapped, mapped_column

from waxos.db.base import Base, UTCDateTime

_Count = BigInteger().with_variant(Integer(), "sqlite")

# Events on channels of no workspace (a user's own `private-user-{id}`) are counted under this id, so
# account-wide totals include them; no workspace has id 0.
NO_WORKSPACE = 0


class UsageHour(Base):
    """What one workspace used in one UTC hour.

    Every column only grows: event counts are recounted from the log (which only grows until pruned, so
    a recount never lowers them) and live counts keep the hour's peak.
    """

    __tablename__ = "usage_hourly"

    workspace_id: Mapped[int] = mapped_column(_Count, primary_key=True, autoincrement=False)
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    events: Mapped[int] = mapped_column(_Count, default=0)
    # `message.new` events: chat messages posted.
    chat_messages: Mapped[int] = mapped_column(_Count, default=0)
    # Pusher's count, estimated: each event is one API message plus one per subscriber it reaches.
    pusher_messages: Mapped[int] = mapped_column(_Count, default=0)
    connections_peak: Mapped[int] = mapped_column(_Count, default=0)
    subscriptions_peak: Mapped[int] = mapped_column(_Count, default=0)
    presence_peak: Mapped[int] = mapped_column(_Count, default=0)
