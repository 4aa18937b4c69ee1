"""Schema migrations: Alembic configured in code and run on any supported database URL."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection

from waxos.db.engine import make_engine

# Shipped inside the package, so `waxos migrate` works from any directory without an alembic.ini.
MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(connection: Connection) -> Config:
    """An Alembic configuration that runs on `connection` (see migrations/env.py)."""
    config = Config()
    # configparser would read a `%` in the path as interpolation.
    config.set_main_option("script_location", str(MIGRATIONS).replace("%", "%%"))
    config.attributes["connection"] = connection
    return config


async def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database at `database_url` up to `revision`, in one transaction.

    On SQLite the foreign keys are off meanwhile, as SQLite's procedure for rebuilding a table requires
    (it can be set only outside a transaction): with them on, dropping the old copy of `users` would
    cascade into `memberships`. They are checked before the transaction commits.
    """
    engine = make_engine(database_url, sqlite_foreign_keys=False)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_upgrade, revision)
    finally:
        await engine.dispose()


def _upgrade(connection: Connection, revision: str) -> None:
    command.upgrade(alembic_config(connection), revision)
    if connection.dialect.name == "sqlite":
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
        if broken:
            raise RuntimeError(f"migration left {len(broken)} row(s) breaking a foreign key; rolled back")
