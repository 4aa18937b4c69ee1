"""The event log's tables: one head row per channel, one row per logged event."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from waxos.db.base import Base, UTCDateTime
from waxos.pusher_protocol.limits import MAX_CHANNEL_NAME_LENGTH, MAX_EVENT_NAME_LENGTH

# Pusher's socket ids are `digits.digits`; nothing longer than this is logged.
SOCKET_ID_LENGTH = 64
# SQLite only auto-increments INTEGER; sequence numbers are 64-bit everywhere else.
Seq = BigInteger().with_variant(Integer(), "sqlite")


class ChannelHead(Base):
    """Per channel: the last `seq` handed out, and the last one pruned from the log."""

    __tablename__ = "realtime_channels"

    channel: Mapped[str] = mapped_column(String(MAX_CHANNEL_NAME_LENGTH), primary_key=True)
    head_seq: Mapped[int] = mapped_column(Seq, default=0)
    # Every seq up to this one is gone from the log: catch-up from before it must resync.
    pruned_seq: Mapped[int] = mapped_column(Seq, default=0)


class LoggedEvent(Base):
    """One event as published: `payload` is the encoded envelope, exactly what subscribers receive."""

    __tablename__ = "realtime_events"
    __table_args__ = (
        # The relay's work queue: only undelivered rows are indexed, so it stays small.
        Index(
            "ix_realtime_events_pending",
            "channel",
            "seq",
            postgresql_where=text("delivered_at IS NULL"),
            sqlite_where=text("delivered_at IS NULL"),
        ),
    )

    channel: Mapped[str] = mapped_column(String(MAX_CHANNEL_NAME_LENGTH), primary_key=True)
    seq: Mapped[int] = mapped_column(Seq, primary_key=True)
    id: Mapped[str] = mapped_column(String(36), unique=True)
    type: Mapped[str] = mapped_column(String(MAX_EVENT_NAME_LENGTH))
    workspace_id: Mapped[int | None] = mapped_column(Seq)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    payload: Mapped[str] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # The pusher-js connection whose request caused the event: Pusher leaves it out of live delivery.
    socket_id: Mapped[str | None] = mapped_column(String(SOCKET_ID_LENGTH), default=None)
