"""Shared fixtures: a fresh database per test on SQLite and on PostgreSQL.

Helpers that tests import (free ports, `require_node`, `skip_or_fail`...) live in `tests/support/`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.environment import require_postgres

pytest_plugins = ["tests.support.local_pusher", "tests.support.events"]


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL: a SQLite file, then a PostgreSQL schema of its own."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'waxos.db'}"
        return
    base = require_postgres()
    yield from _fresh_postgres_database(base)


@pytest.fixture
def postgres_database_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database, for behaviour only PostgreSQL has."""
    yield from _fresh_postgres_database(require_postgres())


def _fresh_postgres_database(base: str) -> Iterator[str]:
    """Create a throw-away database beside `base`, yield its URL, drop it afterwards."""
    import uuid

    from sqlalchemy.engine import make_url

    url = make_url(base)
    name = f"waxos_test_{uuid.uuid4().hex[:12]}"

    async def admin(sql: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(
            host=url.host,
            port=url.port or 5432,
            user=url.username,
            password=url.password,
            database=url.database,
        )
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
