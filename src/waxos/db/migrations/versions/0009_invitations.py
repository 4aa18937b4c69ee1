"""Invitations: a membership offered to an email address, pending until that account accepts it.

Revision ID: 0009_invitations
Revises: 0008_ids_never_reused
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_invitations"
down_revision = "0008_ids_never_reused"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_TIMESTAMP = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create `invitations` (ids never reused; rows go with their workspace and their inviter)."""
    op.create_table(
        "invitations",
        sa.Column("id", _ID, nullable=False),
        sa.Column("workspace_id", _ID, nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("invited_by_id", _ID, nullable=False),
        sa.Column("created_at", _TIMESTAMP, nullable=False),
        sa.Column("expires_at", _TIMESTAMP, nullable=False),
        sa.CheckConstraint("role IN ('admin', 'agent')", name=op.f("ck_invitations_role")),
        sa.ForeignKeyConstraint(
            ["workspace_id"],
            ["workspaces.id"],
            name=op.f("fk_invitations_workspace_id_workspaces"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invited_by_id"],
            ["users.id"],
            name=op.f("fk_invitations_invited_by_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitations")),
        sa.UniqueConstraint("workspace_id", "email", name="uq_invitations_workspace_id_email"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_invitations_email", "invitations", ["email"])
    op.create_index("ix_invitations_invited_by_id", "invitations", ["invited_by_id"])


def downgrade() -> None:
    """Drop it again (pending invitations are lost)."""
    op.drop_table("invitations")
