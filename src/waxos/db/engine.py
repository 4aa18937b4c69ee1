"""Engine and session factories, built from settings in the app's lifespan, never at import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

_READ_ONLY = "waxos_read_only"


def is_sqlite(url: str) -> bool:
    """True for the embedded SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(
    url: str, *, show_parameters: bool = False, sqlite_foreign_keys: bool = True, **kwargs: Any
) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and foreign keys, its folder created.

    SQL parameters (emails, password hashes) stay out of SQLAlchemy's log lines and error messages
    unless `show_parameters` (`WAXOS_LOG_SQL_PARAMETERS`) asks for them. `sqlite_foreign_keys=False` is
    for migrations only (see `waxos.db.migrate`).
    """
    kwargs.setdefault("hide_parameters", not show_parameters)
    if not is_sqlite(url):
        # No pool_pre_ping: on asyncpg it wraps a ping in BEGIN/ROLLBACK at every checkout, a quarter of
        # a channel-auth request's CPU. A connection a database restart broke fails on first use
        # instead; SQLAlchemy then invalidates the whole pool and that one request answers 503 (see
        # api/errors.py). Recycling bounds how long an idle connection can sit behind a proxy's timeout.
        kwargs.setdefault("pool_recycle", 1800)
        return create_async_engine(url, **kwargs)
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        # WAL lets the relay read while a request writes; foreign keys are off by default in SQLite.
        # The driver's implicit BEGIN is disabled so that `begin` below takes the write lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if sqlite_foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _sqlite_begin(connection: Any) -> None:
        # BEGIN IMMEDIATE: a writer waits for the lock at the start instead of failing at commit
        # with "database is locked" after a read, which SQLite cannot upgrade under contention.
        # A read-only engine (see `read_only`) takes no lock: under WAL its plain, deferred BEGIN reads a
        # snapshot and never waits for a writer nor makes one wait, where BEGIN IMMEDIATE would queue
        # behind every emitting request (SQLite's busy handler sleeps 1, 2, 5, 10 ms... between tries).
        if connection.get_execution_options().get(_READ_ONLY):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def read_only(engine: AsyncEngine) -> AsyncEngine:
    """The same engine and pool for transactions that only read: on SQLite they take no write lock.

    Never write through it: a deferred SQLite transaction that writes after reading can fail with
    "database is locked" when another writer committed in between, which is what BEGIN IMMEDIATE avoids.
    """
    return engine.execution_options(**{_READ_ONLY: True})


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """The session factory; objects stay usable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def transaction(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """One unit of work: commit on success, roll back on any exception."""
    async with sessions() as session, session.begin():
        yield session
