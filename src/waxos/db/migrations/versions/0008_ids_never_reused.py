"""Ids are never reused: AUTOINCREMENT on SQLite, and a token generation per user.

SQLite hands out the largest rowid in use plus one unless the key is declared AUTOINCREMENT, which it
can only be at CREATE TABLE: the tables are rebuilt (batch mode; `waxos.db.migrate` runs SQLite
migrations with foreign keys off, as SQLite's own procedure for rebuilding a table requires, and checks
them before committing). PostgreSQL's sequences never go back: there only the column is added.

Ids freed on SQLite before this migration ran may still be handed out once: nothing remembers them. The
token generation covers that case: every user gets a random one here, and tokens issued before this
migration (without one) are refused, so everyone signs in again once.

Revision ID: 0008_ids_never_reused
Revises: 0007_socket_id_terminations
Create Date: 2026-11-30
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0008_ids_never_reused"
down_revision = "0007_socket_id_terminations"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_REBUILT = ("workspaces", "users", "login_failures")


def upgrade() -> None:
    """Add `users.token_generation` (random per user); on SQLite, rebuild the id tables AUTOINCREMENT."""
    op.add_column("users", sa.Column("token_generation", _ID, nullable=True))
    connection = op.get_bind()
    users = sa.table("users", sa.column("id", _ID), sa.column("token_generation", _ID))
    for (user_id,) in connection.execute(sa.select(users.c.id)).all():
        connection.execute(
            users.update().where(users.c.id == user_id).values(token_generation=secrets.randbits(62))
        )
    if connection.dialect.name != "sqlite":
        op.alter_column("users", "token_generation", existing_type=_ID, nullable=False)
        return
    for table in _REBUILT:
        with op.batch_alter_table(
            table, recreate="always", table_kwargs={"sqlite_autoincrement": True}
        ) as batch:
            if table == "users":
                batch.alter_column("token_generation", existing_type=_ID, nullable=False)


def downgrade() -> None:
    """Drop `users.token_generation` (SQLite keeps AUTOINCREMENT: it only ever prevents reuse)."""
    with op.batch_alter_table("users") as batch:
        batch.drop_column("token_generation")
