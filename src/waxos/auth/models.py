"""Account tables: workspaces, staff users, their memberships with a role, invitations, failed logins."""

from __future__ import annotations

import enum
import secrets
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Index,
    String,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from waxos.db.base import NEVER_REUSE_IDS, Base, Id, UTCDateTime, utcnow

# 320 is the longest address RFC 5321 permits (64 local + @ + 255 domain).
EMAIL_LENGTH = 320
NAME_LENGTH = 200


def new_token_generation() -> int:
    """A user's first token generation: random, so a user given a reused id matches no old token."""
    return secrets.randbits(62)


class Role(enum.StrEnum):
    """What a member may do in a workspace."""

    ADMIN = "admin"
    AGENT = "agent"


class Workspace(Base):
    """A team (a tenant): its staff share chats, channels and presence."""

    __tablename__ = "workspaces"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(Base):
    """A staff user; `email` is stored lower-cased so that it is unique regardless of case."""

    __tablename__ = "users"
    __table_args__ = NEVER_REUSE_IDS

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH), unique=True)
    name: Mapped[str] = mapped_column(String(NAME_LENGTH))
    password_hash: Mapped[str] = mapped_column(String(255))
    # A platform operator runs the service itself (announcements, operator pages), not a workspace.
    is_operator: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Every access token carries it and must match it: a user created later under the same id (ids are
    # never reused, but belt and braces) draws another, and replacing it revokes every token at once.
    token_generation: Mapped[int] = mapped_column(Id, default=new_token_generation)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )


class Membership(Base):
    """A user's place in a workspace; removing the row ends their access at once."""

    __tablename__ = "memberships"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'agent')", name="role"),
        Index("ix_memberships_workspace_id", "workspace_id"),
    )

    user_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    workspace_id: Mapped[int] = mapped_column(
        Id, ForeignKey("workspaces.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=16, values_callable=lambda roles: [r.value for r in roles])
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="memberships")
    workspace: Mapped[Workspace] = relationship()


class Invitation(Base):
    """A workspace admin's offer of a membership to an email address, pending until that account accepts.

    Addressed by email (stored lower-cased, as `users.email`), so inviting says nothing about whether an
    account has it; one row per workspace and email. It goes with the workspace and with its inviter.
    """

    __tablename__ = "invitations"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'agent')", name="role"),
        UniqueConstraint("workspace_id", "email", name="uq_invitations_workspace_id_email"),
        Index("ix_invitations_email", "email"),
        Index("ix_invitations_invited_by_id", "invited_by_id"),
        NEVER_REUSE_IDS,
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(Id, ForeignKey("workspaces.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    role: Mapped[Role] = mapped_column(
        Enum(Role, native_enum=False, length=16, values_callable=lambda roles: [r.value for r in roles])
    )
    invited_by_id: Mapped[int] = mapped_column(Id, ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LoginFailure(Base):
    """One failed login for an email address, kept while it counts towards the lockout window.

    An attempt is recorded here before its password is verified, and removed with the rest when it
    succeeds: attempts in flight count towards the limit too (see `waxos.auth.service.login`).
    """

    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_email_failed_at", "email", "failed_at"), NEVER_REUSE_IDS)

    id: Mapped[int] = mapped_column(Id, primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_LENGTH))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime)
