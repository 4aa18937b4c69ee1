"""What webhooks tell us, kept per row: staff presence, channel occupancy, and deliveries already applied.

Each row remembers the `time_ms` of the webhook that last changed it, so a delivery that arrives late (a
retry overtaken by a newer one) cannot undo a newer state.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from waxos.db.base import Base, UTCDateTime
from waxos.pusher_protocol.limits import MAX_CHANNEL_NAME_LENGTH

_BigId = BigInteger().with_variant(Integer(), "sqlite")


class StaffPresence(Base):
    """Whether a user is in a workspace's presence channel (`presence-workspace-{id}`), per webhooks.

    Pusher sends `member_added` for a user's first connection to the channel and `member_removed` for the
    last, so one row per (workspace, user) counts a user once however many tabs they have open.
    """

    __tablename__ = "staff_presence"
    __table_args__ = (Index("ix_staff_presence_user_id", "user_id"),)

    workspace_id: Mapped[int] = mapped_column(
        _BigId, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(_BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    online: Mapped[bool] = mapped_column(Boolean)
    changed_ms: Mapped[int] = mapped_column(BigInteger)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChannelOccupancy(Base):
    """A workspace channel that has (or had) subscribers, and how many, per webhooks.

    `subscription_count` comes from the `subscription_count` webhook (an app setting on Pusher); it stays
    null until one arrives, and an occupied channel counts at least one subscription.
    """

    __tablename__ = "pusher_channel_occupancy"
    __table_args__ = (Index("ix_pusher_channel_occupancy_workspace_id", "workspace_id"),)

    channel: Mapped[str] = mapped_column(String(MAX_CHANNEL_NAME_LENGTH), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(_BigId, ForeignKey("workspaces.id", ondelete="CASCADE"))
    occupied: Mapped[bool] = mapped_column(Boolean)
    subscription_count: Mapped[int | None] = mapped_column(Integer)
    changed_ms: Mapped[int] = mapped_column(BigInteger)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WebhookDelivery(Base):
    """A delivery already applied, by its signature, kept while its `time_ms` is fresh enough to be
    accepted: the same signed body again is a replay."""

    __tablename__ = "pusher_webhook_deliveries"
    __table_args__ = (Index("ix_pusher_webhook_deliveries_received_at", "received_at"),)

    signature: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
