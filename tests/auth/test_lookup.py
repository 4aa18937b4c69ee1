"""StaffLookup: concurrent reads share one query, and every answer is read after it was asked for."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete, event
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.support.accounts import World, build_world, migrated
from waxos.auth.lookup import StaffLookup, StaffRecord, Standing
from waxos.auth.models import Membership, Role, User
from waxos.auth.tokens import AccessToken
from waxos.db.engine import make_engine, transaction
from waxos.db.migrate import upgrade


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[tuple[AsyncEngine, async_sessionmaker[AsyncSession], World]]:
    async with migrated(database_url) as (engine, sessions):
        yield engine, sessions, await build_world(sessions)


def count_selects(engine: AsyncEngine) -> list[str]:
    statements: list[str] = []

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().upper().startswith("SELECT USERS.ID"):
            statements.append(statement)

    return statements


async def test_answers_user_and_role(db: tuple[AsyncEngine, async_sessionmaker[AsyncSession], World]) -> None:
    engine, _sessions, world = db
    lookup = StaffLookup(engine)
    agent = world.acme_agent
    record = StaffRecord(agent.id, "Alan Agent", agent.token_generation)
    assert await lookup.standing(agent.id, world.acme.id) == Standing(record, Role.AGENT)
    assert await lookup.standing(agent.id, world.globex.id) == Standing(record, None)
    assert await lookup.standing(agent.id, None) == Standing(record, None)
    assert await lookup.standing(999_999, world.acme.id) is None
    token = AccessToken(agent.id, agent.token_generation)
    assert await lookup.standing_of(token, world.acme.id) == Standing(record, Role.AGENT)
    # The same id with another generation is another user: not the token's.
    stale = AccessToken(agent.id, agent.token_generation + 1)
    assert await lookup.standing_of(stale, world.acme.id) is None


async def test_concurrent_requests_share_queries(
    db: tuple[AsyncEngine, async_sessionmaker[AsyncSession], World],
) -> None:
    engine, _sessions, world = db
    lookup = StaffLookup(engine)
    selects = count_selects(engine)
    asks = [
        (world.acme_agent.id, world.acme.id),
        (world.acme_agent.id, world.globex.id),
        (world.globex_admin.id, world.globex.id),
        (world.globex_admin.id, world.acme.id),
        (world.loner.id, None),
        (999_999, world.acme.id),
    ] * 20
    answers = await asyncio.gather(*(lookup.standing(user, workspace) for user, workspace in asks))
    roles = [None if a is None else a.role for a in answers[:6]]
    assert roles == [Role.AGENT, None, Role.ADMIN, None, None, None]
    assert answers[5] is None
    assert answers[6:] == answers[:6] * 19
    assert 1 <= len(selects) <= 2, "120 concurrent asks are answered by one or two queries"


async def test_a_removal_is_seen_by_the_next_ask(
    db: tuple[AsyncEngine, async_sessionmaker[AsyncSession], World],
) -> None:
    engine, sessions, world = db
    lookup = StaffLookup(engine)
    agent = world.acme_agent
    before = await lookup.standing(agent.id, world.acme.id)
    async with transaction(sessions) as session:
        await session.execute(delete(Membership).where(Membership.user_id == agent.id))
    removed = await lookup.standing(agent.id, world.acme.id)
    async with transaction(sessions) as session:
        await session.execute(delete(User).where(User.id == agent.id))
    deleted = await lookup.standing(agent.id, world.acme.id)
    assert before is not None and before.role is Role.AGENT
    assert removed is not None and removed.role is None
    assert deleted is None


async def test_a_cancelled_asker_does_not_cancel_the_others(
    db: tuple[AsyncEngine, async_sessionmaker[AsyncSession], World],
) -> None:
    engine, _sessions, world = db
    lookup = StaffLookup(engine)
    key = (world.acme_admin.id, world.acme.id)
    impatient = asyncio.create_task(lookup.standing(*key))
    patient = asyncio.create_task(lookup.standing(*key))
    await asyncio.sleep(0)
    impatient.cancel()
    answer = await patient
    assert answer is not None and answer.role is Role.ADMIN
    with pytest.raises(asyncio.CancelledError):
        await impatient


async def test_a_failed_read_fails_its_askers_and_the_next_read_works(database_url: str) -> None:
    engine = make_engine(database_url)
    lookup = StaffLookup(engine)
    try:
        # No tables yet: the read fails, and every asker of that read gets the error.
        results = await asyncio.gather(
            lookup.standing(1, 1), lookup.standing(2, None), return_exceptions=True
        )
        assert all(isinstance(r, DBAPIError) for r in results), results
        await upgrade(database_url)
        assert await lookup.standing(1, 1) is None
    finally:
        await engine.dispose()
