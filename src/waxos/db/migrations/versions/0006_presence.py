"""Presence and usage from Pusher webhooks: staff presence, channel occupancy, applied deliveries.

Revision ID: 0006_presence
Revises: 0005_inbox
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_presence"
down_revision = "0005_inbox"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the webhook-fed tables."""
    op.create_table(
        "staff_presence",
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("changed_ms", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", _TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_staff_presence_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_staff_presence_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("workspace_id", "user_id", name=op.f("pk_staff_presence")),
    )
    op.create_index("ix_staff_presence_user_id", "staff_presence", ["user_id"])
    op.create_table(
        "pusher_channel_occupancy",
        sa.Column("channel", sa.String(164), nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("occupied", sa.Boolean(), nullable=False),
        sa.Column("subscription_count", sa.Integer(), nullable=True),
        sa.Column("changed_ms", sa.BigInteger(), nullable=False),
        sa.Column("changed_at", _TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_pusher_channel_occupancy_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_pusher_channel_occupancy")),
    )
    op.create_index("ix_pusher_channel_occupancy_workspace_id", "pusher_channel_occupancy", ["workspace_id"])
    op.create_table(
        "pusher_webhook_deliveries",
        sa.Column("signature", sa.String(64), nullable=False),
        sa.Column("received_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("signature", name=op.f("pk_pusher_webhook_deliveries")),
    )
    op.create_index("ix_pusher_webhook_deliveries_received_at", "pusher_webhook_deliveries", ["received_at"])


def downgrade() -> None:
    """Drop the webhook-fed tables."""
    op.drop_table("pusher_webhook_deliveries")
    op.drop_table("pusher_channel_occupancy")
    op.drop_table("staff_presence")
