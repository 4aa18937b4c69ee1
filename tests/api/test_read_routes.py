"""Routes that only read use read-only transactions: on SQLite they never wait for a writer's lock."""

from __future__ import annotations

import asyncio

from sqlalchemy import insert

from tests.support.accounts import running_api
from tests.support.events import emit_messages
from waxos.auth.models import LoginFailure
from waxos.channels.names import private_workspace_channel
from waxos.db.base import utcnow
from waxos.db.engine import make_engine

# SQLite's busy timeout is 30 s: a read that took the write lock would wait for the writer that long.
PROMPTLY_SECONDS = 5


async def test_catch_up_and_me_answer_while_another_connection_holds_a_write_transaction(
    database_url: str,
) -> None:
    async with running_api(database_url) as api:
        world = api.world
        channel = private_workspace_channel(world.acme.id, "chats")
        await emit_messages(api.sessions, channel, 3)
        headers = {"Authorization": f"Bearer {world.token(world.acme_agent)}"}
        writer = make_engine(database_url)
        try:
            async with writer.begin() as connection:  # BEGIN IMMEDIATE on SQLite: holds the write lock
                await connection.execute(insert(LoginFailure).values(email="x@acme.test", failed_at=utcnow()))
                async with asyncio.timeout(PROMPTLY_SECONDS):
                    events = await api.client.get(
                        "/api/v1/realtime/events", params={"channel": channel, "after": 0}, headers=headers
                    )
                    me = await api.client.get("/api/v1/me", headers=headers)
        finally:
            await writer.dispose()
    assert events.status_code == 200, events.text
    assert [event["seq"] for event in events.json()["events"]] == [1, 2, 3]
    assert me.status_code == 200 and me.json()["id"] == world.acme_agent.id
