"""Active provider: the one-row table recording which Pusher-compatible provider is active, and its epoch.

Revision ID: 0004_active_provider
Revises: 0003_usage_and_relay_status
Create Date: 2026-11-30
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0004_active_provider"
down_revision = "0003_usage_and_relay_status"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create the table with its single row: the primary, epoch 1."""
    table = op.create_table(
        "realtime_provider",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("active", sa.String(16), nullable=False),
        sa.Column("epoch", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_by", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_realtime_provider")),
    )
    op.bulk_insert(
        table,
        [
            {
                "id": 1,
                "active": "primary",
                "epoch": 1,
                "changed_at": datetime.now(UTC),
                "changed_by": "initial",
                "reason": "initial",
            }
        ],
    )


def downgrade() -> None:
    """Drop the table."""
    op.drop_table("realtime_provider")
