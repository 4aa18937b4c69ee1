"""Event log: per-channel heads, the logged events, and the relay's channel leases.

Revision ID: 0002_event_log
Revises: 0001_accounts
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_event_log"
down_revision = "0001_accounts"
branch_labels = None
depends_on = None

_SEQ = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIMESTAMP = sa.DateTime(timezone=True)
_CHANNEL = sa.String(164)


def upgrade() -> None:
    """Create the event log tables."""
    op.create_table(
        "realtime_channels",
        sa.Column("channel", _CHANNEL, nullable=False),
        sa.Column("head_seq", _SEQ, nullable=False),
        sa.Column("pruned_seq", _SEQ, nullable=False),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_realtime_channels")),
    )
    op.create_table(
        "realtime_events",
        sa.Column("channel", _CHANNEL, nullable=False),
        sa.Column("seq", _SEQ, nullable=False),
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("type", sa.String(200), nullable=False),
        sa.Column("workspace_id", _SEQ, nullable=True),
        sa.Column("occurred_at", _TIMESTAMP, nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("delivered_at", _TIMESTAMP, nullable=True),
        sa.PrimaryKeyConstraint("channel", "seq", name=op.f("pk_realtime_events")),
        sa.UniqueConstraint("id", name=op.f("uq_realtime_events_id")),
    )
    op.create_index(
        "ix_realtime_events_pending",
        "realtime_events",
        ["channel", "seq"],
        postgresql_where=sa.text("delivered_at IS NULL"),
        sqlite_where=sa.text("delivered_at IS NULL"),
    )
    op.create_table(
        "realtime_relay_leases",
        sa.Column("channel", _CHANNEL, nullable=False),
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("expires_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_realtime_relay_leases")),
    )


def downgrade() -> None:
    """Drop the event log tables."""
    op.drop_table("realtime_relay_leases")
    op.drop_index("ix_realtime_events_pending", table_name="realtime_events")
    op.drop_table("realtime_events")
    op.drop_table("realtime_channels")
