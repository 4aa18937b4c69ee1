"""The migrations: apply on SQLite and PostgreSQL, are idempotent, and build exactly every model's table."""

from __future__ import annotations

import importlib
import pkgutil

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Connection, Integer, MetaData, String, Table, text
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
                    "INSERT INTO users (email, name, password_hash, created_at, token_generation) "
                    "VALUES ('a@x.test', 'A', 'h', CURRENT_TIMESTAMP, 1)"
                )
            )
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(
                    text(
                        "INSERT INTO users (email, name, password_hash, created_at, token_generation) "
                        "VALUES ('a@x.test', 'B', 'h', CURRENT_TIMESTAMP, 2)"
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


def test_every_table_with_a_generated_id_never_reuses_ids() -> None:
    """The rule of `waxos.db.base.NEVER_REUSE_IDS`, for the tables other packages add later as well."""

    def reusing(metadata: MetaData) -> list[str]:
        return [
            table.name
            for table in metadata.tables.values()
            if table.autoincrement_column is not None and not table.dialect_options["sqlite"]["autoincrement"]
        ]

    example = MetaData()
    Table("forgetful", example, Column("id", Integer, primary_key=True))
    Table("keyed_by_name", example, Column("name", String(10), primary_key=True))
    assert reusing(example) == ["forgetful"]
    assert reusing(Base.metadata) == []


_USER = (
    "INSERT INTO users (email, name, password_hash, created_at) VALUES (:email, 'U', 'h', CURRENT_TIMESTAMP)"
)


async def test_upgrading_keeps_every_row_and_ids_are_never_reused_after(database_url: str) -> None:
    await upgrade(database_url, "0007_socket_id_terminations")
    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text("INSERT INTO workspaces (name, created_at) VALUES ('W', CURRENT_TIMESTAMP)")
            )
            for n in (1, 2, 3):
                await connection.execute(text(_USER), {"email": f"u{n}@x.test"})
            await connection.execute(
                text(
                    "INSERT INTO memberships (user_id, workspace_id, role, created_at) "
                    "SELECT u.id, w.id, 'agent', CURRENT_TIMESTAMP FROM users u, workspaces w "
                    "WHERE u.email IN ('u1@x.test', 'u2@x.test')"
                )
            )
            await connection.execute(
                text("INSERT INTO login_failures (email, failed_at) VALUES ('u1@x.test', CURRENT_TIMESTAMP)")
            )
            await connection.execute(text("DELETE FROM users WHERE email = 'u3@x.test'"))
            kept = (await connection.execute(text("SELECT id FROM users ORDER BY 1"))).scalars().all()
    finally:
        await engine.dispose()
    await upgrade(database_url)
    engine = make_engine(database_url)
    insert = text(
        "INSERT INTO users (email, name, password_hash, created_at, token_generation) "
        "VALUES (:email, 'N', 'h', CURRENT_TIMESTAMP, 1)"
    )
    try:
        async with engine.begin() as connection:
            members = (await connection.execute(text("SELECT user_id FROM memberships ORDER BY 1"))).all()
            generations = (
                (await connection.execute(text("SELECT token_generation FROM users"))).scalars().all()
            )
            failures = await connection.scalar(text("SELECT count(*) FROM login_failures"))
            await connection.execute(insert, {"email": "first@x.test"})
            first = await connection.scalar(text("SELECT max(id) FROM users"))
            await connection.execute(text("DELETE FROM users WHERE id = :id"), {"id": first})
            await connection.execute(insert, {"email": "second@x.test"})
            second = await connection.scalar(text("SELECT max(id) FROM users"))
            if connection.dialect.name == "sqlite":
                rebuilt = (
                    await connection.execute(
                        text("SELECT name FROM sqlite_master WHERE sql LIKE '%AUTOINCREMENT%'")
                    )
                ).scalars()
                assert set(rebuilt) >= {"users", "workspaces", "login_failures"}
        # Foreign keys hold again once migrated.
        with pytest.raises(IntegrityError):
            async with engine.begin() as connection:
                await connection.execute(
                    text(
                        "INSERT INTO memberships (user_id, workspace_id, role, created_at) "
                        "SELECT 999999, id, 'agent', CURRENT_TIMESTAMP FROM workspaces"
                    )
                )
    finally:
        await engine.dispose()
    assert [row.user_id for row in members] == kept
    assert len(generations) == 2 and None not in generations and len(set(generations)) == 2
    assert failures == 1
    assert second > first  # the freed id is not handed out again
