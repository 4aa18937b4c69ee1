"""The migrations: apply on SQLite and PostgreSQL, are idempotent, and build exactly every model's table."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

import waxos
from waxos.db import models
from waxos.db.engine import make_engine
from waxos.db.migrate import upgrade
from waxos.db.models import Base


def _differences(connection: Connection) -> list[object]:
    """Everything autogenerate would change between the migrated schema and all the models, unfiltered."""
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, Base.metadata))


def test_the_models_module_lists_every_table() -> None:
    """A table module that `db/models.py` forgets would be invisible to Alembic and to the test below."""
    for module in pkgutil.walk_packages(waxos.__path__, "waxos."):
        # Alembic's scripts run at import, and `__main__` starts the CLI: neither declares a table.
        if not module.name.startswith(("waxos.db.migrations", "waxos.__main__")):
            importlib.import_module(module.name)
    listed = {getattr(models, name).__tablename__ for name in models.__all__ if name != "Base"}
    assert set(Base.metadata.tables) == listed


async def test_upgrade_twice_creates_every_table_matching_the_models(database_url: str) -> None:
    await upgrade(database_url)
    await upgrade(database_url)
    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            version = await connection.scalar(text("SELECT version_num FROM alembic_version"))
            differences = await connection.run_sync(_differences)
    finally:
        await engine.dispose()
    assert version is not None
    assert differences == []


async def test_the_database_enforces_roles_and_unique_emails(database_url: str) -> None:
    await upgrade(database_url)
    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO users (email, name, password_hash, created_at) "
                    "VALUES ('a@x.test', 'A', 'h', CURRENT_TIMESTAMP)"
                )
            )
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(
                    text(
                        "INSERT INTO users (email, name, password_hash, created_at) "
                        "VALUES ('a@x.test', 'B', 'h', CURRENT_TIMESTAMP)"
                    )
                )
        async with engine.begin() as connection:
            await connection.execute(
                text("INSERT INTO workspaces (name, created_at) VALUES ('W', CURRENT_TIMESTAMP)")
            )
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(
                    text(
                        "INSERT INTO memberships (user_id, workspace_id, role, created_at) "
                        "SELECT u.id, w.id, 'owner', CURRENT_TIMESTAMP FROM users u, workspaces w"
                    )
                )
    finally:
        await engine.dispose()
