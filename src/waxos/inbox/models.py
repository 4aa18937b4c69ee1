"""The inbox's tables: chats, their messages, AI suggestions, notifications and announcement fan-outs."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from waxos.auth.models import NAME_LENGTH
from waxos.db.base import NEVER_REUSE_IDS, Base, Id, UTCDateTime, utcnow

# Ids reach clients through events: never reused (see `NEVER_REUSE_IDS`).
_BigId = Id
CLIENT_ID_LENGTH = 64
CODE_LENGTH = 64


class ChatStatus(enum.StrEnum):
    """Whether a chat still needs the team."""

    OPEN = "open"
    CLOSED = "closed"


class Direction(enum.StrEnum):
    """Who wrote a message: the customer (inbound) or the team (outbound)."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Delivery(enum.StrEnum):
    """How far a message got; it only moves forward: sent, then delivered, then read."""

    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"


class SuggestionStatus(enum.StrEnum):
    """An AI suggestion waits for a decision, then is sent (accepted) or dropped (discarded)."""

    READY = "ready"
    ACCEPTED = "accepted"
    DISCARDED = "discarded"


class Level(enum.StrEnum):
    """How loudly a notification should be shown."""

    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


def _values(kind: type[enum.StrEnum]) -> str:
    return ", ".join(f"'{member.value}'" for member in kind)


class Chat(Base):
    """A conversation with one customer, in one workspace; `assignee_id` is the staff user handling it."""

    __tablename__ = "chats"
    __table_args__ = (
        CheckConstraint(f"status IN ({_values(ChatStatus)})", name="status"),
        Index("ix_chats_workspace_id_id", "workspace_id", "id"),
        Index("ix_chats_assignee_id", "assignee_id"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(_BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(_BigId, ForeignKey("workspaces.id", ondelete="CASCADE"))
    customer_name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    customer_handle: Mapped[str] = mapped_column(String(NAME_LENGTH))
    status: Mapped[str] = mapped_column(String(16), default=ChatStatus.OPEN.value)
    assignee_id: Mapped[int | None] = mapped_column(_BigId, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Message(Base):
    """One message of a chat. `client_id` (the sender's own id for it) makes a retried send idempotent."""

    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint(f"direction IN ({_values(Direction)})", name="direction"),
        CheckConstraint(f"status IN ({_values(Delivery)})", name="status"),
        UniqueConstraint("chat_id", "client_id", name="uq_messages_chat_id_client_id"),
        Index("ix_messages_chat_id_id", "chat_id", "id"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(_BigId, primary_key=True)
    chat_id: Mapped[int] = mapped_column(_BigId, ForeignKey("chats.id", ondelete="CASCADE"))
    direction: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=Delivery.SENT.value)
    client_id: Mapped[str | None] = mapped_column(String(CLIENT_ID_LENGTH))
    sender_id: Mapped[int | None] = mapped_column(_BigId, ForeignKey("users.id", ondelete="SET NULL"))
    # Bumped by every edit: `message.updated` carries it, so clients apply concurrent edits in order.
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Suggestion(Base):
    """A reply the AI co-pilot proposes for a chat; staff send it (maybe edited) or discard it."""

    __tablename__ = "suggestions"
    __table_args__ = (
        CheckConstraint(f"status IN ({_values(SuggestionStatus)})", name="status"),
        Index("ix_suggestions_chat_id_status", "chat_id", "status"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(_BigId, primary_key=True)
    chat_id: Mapped[int] = mapped_column(_BigId, ForeignKey("chats.id", ondelete="CASCADE"))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=SuggestionStatus.READY.value)
    message_id: Mapped[int | None] = mapped_column(_BigId, ForeignKey("messages.id", ondelete="SET NULL"))
    decided_by_id: Mapped[int | None] = mapped_column(_BigId, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Notification(Base):
    """A notification for one workspace, or (with no workspace) an announcement to every workspace."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint(f"level IN ({_values(Level)})", name="level"),
        Index("ix_notifications_workspace_id_id", "workspace_id", "id"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(_BigId, primary_key=True)
    workspace_id: Mapped[int | None] = mapped_column(_BigId, ForeignKey("workspaces.id", ondelete="CASCADE"))
    level: Mapped[str] = mapped_column(String(16))
    code: Mapped[str] = mapped_column(String(CODE_LENGTH))
    created_by_id: Mapped[int | None] = mapped_column(_BigId, ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AnnouncementFanout(Base):
    """How far an announcement's fan-out has got: workspaces up to `done_through` have their event.

    Each batch moves `done_through` in the transaction that logs the batch's events, so a crash loses
    or repeats nothing; any process resumes an unfinished fan-out.
    """

    __tablename__ = "announcement_fanouts"

    notification_id: Mapped[int] = mapped_column(
        _BigId, ForeignKey("notifications.id", ondelete="CASCADE"), primary_key=True
    )
    # Workspaces created after the announcement do not get it live (they list it through the API).
    last_workspace_id: Mapped[int] = mapped_column(BigInteger, default=0)
    done_through: Mapped[int] = mapped_column(BigInteger, default=0)
    workspaces: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
