"""The accounts migration: applies on SQLite and PostgreSQL, is idempotent, and matches the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

import waxos.auth.models  # noqa: F401  (puts the account tables on Base.metadata)
from waxos.db.base import Base
from waxos.db.engine import make_engine
from waxos.db.migrate import upgrade

ACCOUNT_TABLES = {"workspaces", "users", "memberships", "login_failures"}


def _differences(connection: Connection) -> list[object]:
    """What autogenerate would change; tables other migrations own are not this test's business."""
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return [
        diff
        for diff in compare_metadata(context, Base.metadata)
        if not (isinstance(diff, tuple) and diff[0] == "remove_table" and diff[1].name not in ACCOUNT_TABLES)
    ]


async def test_upgrade_twice_creates_the_account_tables_matching_the_models(database_url: str) -> None:
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
