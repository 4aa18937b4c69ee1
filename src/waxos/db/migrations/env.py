"""Alembic's entry point: runs the migrations on the connection `waxos.db.migrate` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from waxos.db.models import Base


def run_migrations(connection: Connection) -> None:
    """Run the pending migrations in the caller's transaction."""
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if context.is_offline_mode() or not isinstance(_connection, Connection):
    raise RuntimeError("run migrations with `waxos migrate` (waxos.db.migrate.upgrade)")
run_migrations(_connection)
