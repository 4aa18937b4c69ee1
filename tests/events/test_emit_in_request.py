"""A route that changes data and emits: one transaction; a lost database means 503, nothing half-written."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.engine import make_url

from tests.support.accounts import migrated
from tests.support.asgi import asgi_client
from tests.support.events import CHATS, log_rows, message
from tests.support.settings import make_settings
from waxos.api.deps import SessionDep
from waxos.app import create_app
from waxos.events import emit

# A stand-in for a feature's own table, outside the app's metadata.
notes = Table("test_notes", MetaData(), Column("id", Integer, primary_key=True), Column("text", String(50)))
Hook = Callable[[], Awaitable[None]]


def app_with_feature(database_url: str, before_emit: list[Hook]) -> FastAPI:
    app = create_app(make_settings(database_url))

    @app.post("/notes")
    async def create_note(session: SessionDep, request: Request) -> dict[str, int]:
        await session.execute(insert(notes).values(text="hello"))
        for hook in before_emit:
            await hook()
        envelope = await emit(session, CHATS, message())
        return {"seq": envelope.seq}

    return app


async def counts(database_url: str) -> tuple[int, int]:
    async with migrated(database_url) as (_engine, sessions):
        async with sessions() as session:
            note_count = await session.scalar(select(func.count()).select_from(notes))
        return int(note_count or 0), len(await log_rows(sessions))


async def prepare(database_url: str) -> None:
    async with migrated(database_url) as (engine, _sessions), engine.begin() as connection:
        await connection.run_sync(notes.metadata.create_all)


class TcpProxy:
    """Forwards 127.0.0.1:`port` to PostgreSQL; `cut()` closes every connection and stops listening."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._writers |= {writer, up_writer}

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, ConnectionError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))


@contextlib.asynccontextmanager
async def through_proxy(database_url: str) -> AsyncIterator[tuple[str, TcpProxy]]:
    url = make_url(database_url)
    proxy = TcpProxy(url.host or "127.0.0.1", url.port or 5432)
    await proxy.start()
    try:
        yield url.set(port=proxy.port).render_as_string(hide_password=False), proxy
    finally:
        await proxy.cut()


async def test_the_change_and_its_event_commit_together(database_url: str) -> None:
    await prepare(database_url)
    async with asgi_client(app_with_feature(database_url, [])) as client:
        response = await client.post("/notes")
    assert response.status_code == 200 and response.json() == {"seq": 1}
    assert await counts(database_url) == (1, 1)


async def test_an_unreachable_database_fails_the_request_with_503(database_url: str, tmp_path: Path) -> None:
    await prepare(database_url)
    if database_url.startswith("sqlite"):
        # The database file's folder disappears (an unmounted volume) and pooled connections are dropped.
        folder = Path(make_url(database_url).database or "").parent
        app = app_with_feature(database_url, [])
        async with asgi_client(app) as client:
            moved = tmp_path.with_name(tmp_path.name + "-moved")
            folder.rename(moved)
            await app.state.engine.dispose()
            try:
                response = await client.post("/notes")
            finally:
                moved.rename(folder)
    else:
        async with through_proxy(database_url) as (proxied, proxy):
            app = app_with_feature(proxied, [])
            async with asgi_client(app) as client:
                await proxy.cut()
                response = await client.post("/notes")
    assert response.status_code == 503
    assert response.json()["code"] == "database_unavailable"
    assert await counts(database_url) == (0, 0)


async def test_losing_the_database_between_the_change_and_the_emit_writes_nothing(
    postgres_database_url: str,
) -> None:
    # PostgreSQL only: an open SQLite file cannot vanish mid-transaction.
    database_url = postgres_database_url
    await prepare(database_url)
    async with through_proxy(database_url) as (proxied, proxy):
        app = app_with_feature(proxied, [proxy.cut])
        async with asgi_client(app) as client:
            response = await client.post("/notes")
    assert response.status_code == 503
    assert response.json()["code"] == "database_unavailable"
    assert await counts(database_url) == (0, 0)
