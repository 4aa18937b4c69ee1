"""Inbox: chats, messages, AI suggestions, notifications, announcement fan-outs; the operator flag.

Revision ID: 0005_inbox
Revises: 0004_active_provider
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_inbox"
down_revision = "0004_active_provider"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIMESTAMP = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    """Create the inbox tables and add `users.is_operator`."""
    with op.batch_alter_table("users") as users:
        users.add_column(sa.Column("is_operator", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "chats",
        sa.Column("id", _ID, nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("customer_name", sa.String(200), nullable=False),
        sa.Column("customer_handle", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("assignee_id", _ID, nullable=True),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("updated_at", _TIMESTAMP, nullable=False),
        sa.CheckConstraint("status IN ('open', 'closed')", name=op.f("ck_chats_status")),
        _fk("chats", "workspace_id", "workspaces", "CASCADE"),
        _fk("chats", "assignee_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chats")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_chats_workspace_id_id", "chats", ["workspace_id", "id"])
    op.create_index("ix_chats_assignee_id", "chats", ["assignee_id"])
    op.create_table(
        "messages",
        sa.Column("id", _ID, nullable=False),
        sa.Column("chat_id", _ID, nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=True),
        sa.Column("sender_id", _ID, nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("updated_at", _TIMESTAMP, nullable=False),
        sa.Column("status_at", _TIMESTAMP, nullable=False),
        sa.CheckConstraint("direction IN ('inbound', 'outbound')", name=op.f("ck_messages_direction")),
        sa.CheckConstraint("status IN ('sent', 'delivered', 'read')", name=op.f("ck_messages_status")),
        _fk("messages", "chat_id", "chats", "CASCADE"),
        _fk("messages", "sender_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sa.UniqueConstraint("chat_id", "client_id", name="uq_messages_chat_id_client_id"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_messages_chat_id_id", "messages", ["chat_id", "id"])
    op.create_table(
        "suggestions",
        sa.Column("id", _ID, nullable=False),
        sa.Column("chat_id", _ID, nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("message_id", _ID, nullable=True),
        sa.Column("decided_by_id", _ID, nullable=True),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("decided_at", _TIMESTAMP, nullable=True),
        sa.CheckConstraint(
            "status IN ('ready', 'accepted', 'discarded')", name=op.f("ck_suggestions_status")
        ),
        _fk("suggestions", "chat_id", "chats", "CASCADE"),
        _fk("suggestions", "message_id", "messages", "SET NULL"),
        _fk("suggestions", "decided_by_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_suggestions")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_suggestions_chat_id_status", "suggestions", ["chat_id", "status"])
    op.create_table(
        "notifications",
        sa.Column("id", _ID, nullable=False),
        sa.Column("workspace_id", _ID, nullable=True),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("created_by_id", _ID, nullable=True),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.CheckConstraint("level IN ('info', 'warning', 'critical')", name=op.f("ck_notifications_level")),
        _fk("notifications", "workspace_id", "workspaces", "CASCADE"),
        _fk("notifications", "created_by_id", "users", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_notifications_workspace_id_id", "notifications", ["workspace_id", "id"])
    op.create_table(
        "announcement_fanouts",
        sa.Column("notification_id", _ID, nullable=False),
        sa.Column("last_workspace_id", sa.BigInteger(), nullable=False),
        sa.Column("done_through", sa.BigInteger(), nullable=False),
        sa.Column("workspaces", sa.Integer(), nullable=False),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("finished_at", _TIMESTAMP, nullable=True),
        _fk("announcement_fanouts", "notification_id", "notifications", "CASCADE"),
        sa.PrimaryKeyConstraint("notification_id", name=op.f("pk_announcement_fanouts")),
    )


def downgrade() -> None:
    """Drop the inbox tables and `users.is_operator`."""
    for table in ("announcement_fanouts", "notifications", "suggestions", "messages", "chats"):
        op.drop_table(table)
    with op.batch_alter_table("users") as users:
        users.drop_column("is_operator")
