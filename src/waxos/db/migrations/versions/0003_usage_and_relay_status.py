"""Usage roll-ups per workspace and hour, and each relay's last reported status.

Revision ID: 0003_usage_and_relay_status
Revises: 0002_event_log
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_usage_and_relay_status"
down_revision = "0002_event_log"
branch_labels = None
depends_on = None

_COUNT = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the usage and relay status tables."""
    op.create_table(
        "usage_hourly",
        sa.Column("workspace_id", _COUNT, nullable=False),
        sa.Column("hour", _TIMESTAMP, nullable=False),
        *(
            sa.Column(name, _COUNT, nullable=False)
            for name in (
                "events",
                "chat_messages",
                "pusher_messages",
                "connections_peak",
                "subscriptions_peak",
                "presence_peak",
            )
        ),
        sa.PrimaryKeyConstraint("workspace_id", "hour", name=op.f("pk_usage_hourly")),
    )
    op.create_table(
        "relay_status",
        sa.Column("owner", sa.String(100), nullable=False),
        sa.Column("provider", sa.String(50), nullable=False),
        sa.Column("endpoint", sa.String(300), nullable=False),
        sa.Column("started_at", _TIMESTAMP, nullable=False),
        sa.Column("heartbeat_at", _TIMESTAMP, nullable=False),
        sa.Column("breaker", sa.String(16), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("retry_at", _TIMESTAMP, nullable=True),
        sa.Column("delivered", _COUNT, nullable=False),
        sa.Column("rejected", _COUNT, nullable=False),
        sa.Column("failures", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("owner", name=op.f("pk_relay_status")),
    )


def downgrade() -> None:
    """Drop the usage and relay status tables."""
    op.drop_table("relay_status")
    op.drop_table("usage_hourly")
