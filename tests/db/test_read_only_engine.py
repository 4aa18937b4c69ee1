"""`read_only(engine)`: transactions that only read take no SQLite write lock, and writers keep theirs."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from waxos.db.engine import make_engine, make_sessionmaker, read_only, transaction


async def test_a_read_only_transaction_does_not_wait_for_a_writer_on_sqlite(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path / 'read.db'}")
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE notes (n INTEGER)"))
            await connection.execute(text("INSERT INTO notes VALUES (1)"))
        writes, reads = make_sessionmaker(engine), make_sessionmaker(read_only(engine))
        async with transaction(writes) as writer:
            await writer.execute(text("INSERT INTO notes VALUES (2)"))
            # The writer holds the write lock (BEGIN IMMEDIATE); the read sees the last committed state
            # at once instead of waiting up to the 30 s busy timeout.
            async with asyncio.timeout(2), reads() as reader:
                assert await reader.scalar(text("SELECT count(*) FROM notes")) == 1
            # A second writer still queues behind the first rather than failing: its BEGIN IMMEDIATE
            # waits for the lock, so it cannot hit "database is locked" at commit.
            second = asyncio.create_task(_insert(writes, 3))
            await asyncio.sleep(0.2)
            assert not second.done()
        await asyncio.wait_for(second, 10)
        async with reads() as reader:
            assert await reader.scalar(text("SELECT count(*) FROM notes")) == 3
    finally:
        await engine.dispose()


async def _insert(sessions: object, value: int) -> None:
    async with transaction(sessions) as session:  # type: ignore[arg-type]
        await session.execute(text("INSERT INTO notes VALUES (:n)"), {"n": value})
