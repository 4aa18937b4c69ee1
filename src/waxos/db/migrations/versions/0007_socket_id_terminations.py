"""Live delivery controls: the socket each event leaves out, and pending terminate-user-connections.

Revision ID: 0007_socket_id_terminations
Revises: 0006_presence
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_socket_id_terminations"
down_revision = "0006_presence"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Add `realtime_events.socket_id` and create `realtime_user_terminations`."""
    with op.batch_alter_table("realtime_events") as events:
        events.add_column(sa.Column("socket_id", sa.String(64), nullable=True))
    op.create_table(
        "realtime_user_terminations",
        sa.Column("user_id", _ID, autoincrement=False, nullable=False),
        sa.Column("requested_at", _TIMESTAMP, nullable=False),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_realtime_user_terminations")),
    )
    op.create_index(
        "ix_realtime_user_terminations_requested_at", "realtime_user_terminations", ["requested_at"]
    )


def downgrade() -> None:
    """Drop them again."""
    op.drop_table("realtime_user_terminations")
    with op.batch_alter_table("realtime_events") as events:
        events.drop_column("socket_id")
