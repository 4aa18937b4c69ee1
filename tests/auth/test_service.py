"""Login, lockout, and the user behind a token, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.support.accounts import TEST_PASSWORD, World, build_world, migrated
from tests.support.settings import TOKEN_SECRET
from waxos.auth.errors import InvalidCredentials, LoginThrottled, NotAuthenticated
from waxos.auth.guard import HashingPool
from waxos.auth.models import LoginFailure, Membership, Role, User
from waxos.auth.service import (
    LOCKOUT_FAILURES,
    LOCKOUT_WINDOW,
    TokenPolicy,
    login,
    membership_role,
    user_for_token,
    workspaces_of,
)
from waxos.auth.tokens import AccessToken, read_access_token
from waxos.db.base import utcnow
from waxos.db.engine import transaction

TOKENS = TokenPolicy(TOKEN_SECRET, timedelta(minutes=15))


@pytest.fixture
async def hashing() -> AsyncIterator[HashingPool]:
    pool = HashingPool(concurrency=2, max_waiting=16)
    yield pool
    pool.close()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[tuple[async_sessionmaker[AsyncSession], World]]:
    async with migrated(database_url) as (_engine, sessions):
        yield sessions, await build_world(sessions)


async def test_login_returns_a_token_for_the_account_whatever_the_email_case(
    db: tuple[async_sessionmaker[AsyncSession], World],
    hashing: HashingPool,
) -> None:
    sessions, world = db
    token = await login(sessions, "  Agent@ACME.test ", TEST_PASSWORD, TOKENS, utcnow(), hashing)
    agent = world.acme_agent
    assert read_access_token(token, TOKEN_SECRET) == AccessToken(agent.id, agent.token_generation)


async def test_wrong_password_and_unknown_email_fail_alike(
    db: tuple[async_sessionmaker[AsyncSession], World],
    hashing: HashingPool,
) -> None:
    sessions, _world = db
    with pytest.raises(InvalidCredentials) as wrong:
        await login(sessions, "agent@acme.test", "wrong-password", TOKENS, utcnow(), hashing)
    with pytest.raises(InvalidCredentials) as unknown:
        await login(sessions, "nobody@acme.test", TEST_PASSWORD, TOKENS, utcnow(), hashing)
    assert str(wrong.value) == str(unknown.value)


async def _failures(sessions: async_sessionmaker[AsyncSession], email: str) -> int:
    async with transaction(sessions) as session:
        count = await session.scalar(
            select(func.count()).select_from(LoginFailure).where(LoginFailure.email == email)
        )
    return int(count or 0)


async def test_five_failures_lock_the_account_until_the_oldest_leaves_the_window(
    db: tuple[async_sessionmaker[AsyncSession], World],
    hashing: HashingPool,
) -> None:
    sessions, _world = db
    start = utcnow()
    for minute in range(LOCKOUT_FAILURES):
        with pytest.raises(InvalidCredentials):
            await login(
                sessions, "agent@acme.test", "guess", TOKENS, start + timedelta(minutes=minute), hashing
            )
    locked_at = start + timedelta(minutes=5)
    with pytest.raises(LoginThrottled) as throttled:
        # The right password too: while locked, nothing is even checked.
        await login(sessions, "agent@acme.test", TEST_PASSWORD, TOKENS, locked_at, hashing)
    assert throttled.value.retry_after == int((LOCKOUT_WINDOW - timedelta(minutes=5)).total_seconds())
    # Other accounts are not affected.
    await login(sessions, "agent2@acme.test", TEST_PASSWORD, TOKENS, locked_at, hashing)

    unlocked_at = start + LOCKOUT_WINDOW + timedelta(seconds=1)
    await login(sessions, "agent@acme.test", TEST_PASSWORD, TOKENS, unlocked_at, hashing)
    assert await _failures(sessions, "agent@acme.test") == 0, "a successful login clears the failures"


async def test_unknown_emails_are_locked_out_too(
    db: tuple[async_sessionmaker[AsyncSession], World],
    hashing: HashingPool,
) -> None:
    sessions, _world = db
    now = utcnow()
    for _ in range(LOCKOUT_FAILURES):
        with pytest.raises(InvalidCredentials):
            await login(sessions, "ghost@acme.test", "guess", TOKENS, now, hashing)
    with pytest.raises(LoginThrottled):
        await login(sessions, "GHOST@acme.test", "guess", TOKENS, now, hashing)


async def test_failures_outside_the_window_are_pruned_and_do_not_count(
    db: tuple[async_sessionmaker[AsyncSession], World],
    hashing: HashingPool,
) -> None:
    sessions, _world = db
    start = utcnow()
    for _ in range(LOCKOUT_FAILURES - 1):
        with pytest.raises(InvalidCredentials):
            await login(sessions, "agent@acme.test", "guess", TOKENS, start, hashing)
    later = start + LOCKOUT_WINDOW + timedelta(minutes=1)
    with pytest.raises(InvalidCredentials):
        await login(sessions, "agent@acme.test", "guess", TOKENS, later, hashing)
    assert await _failures(sessions, "agent@acme.test") == 1
    await login(sessions, "agent@acme.test", TEST_PASSWORD, TOKENS, later, hashing)


async def test_a_deleted_user_is_gone_with_their_memberships(
    db: tuple[async_sessionmaker[AsyncSession], World],
) -> None:
    sessions, world = db
    token = AccessToken(world.acme_agent.id, world.acme_agent.token_generation)
    async with transaction(sessions) as session:
        assert (await user_for_token(session, token)).email == "agent@acme.test"
    async with transaction(sessions) as session:
        await session.execute(delete(User).where(User.id == world.acme_agent.id))
    async with transaction(sessions) as session:
        with pytest.raises(NotAuthenticated, match="no longer exists"):
            await user_for_token(session, token)
        remaining = await session.scalar(
            select(func.count()).select_from(Membership).where(Membership.user_id == world.acme_agent.id)
        )
    assert remaining == 0, "memberships go with their user"


async def test_workspaces_and_roles_of_a_user(db: tuple[async_sessionmaker[AsyncSession], World]) -> None:
    sessions, world = db
    async with transaction(sessions) as session:
        session.add(Membership(user_id=world.acme_admin.id, workspace_id=world.globex.id, role=Role.AGENT))
    async with transaction(sessions) as session:
        listed = [(w.name, role) for w, role in await workspaces_of(session, world.acme_admin.id)]
        assert await membership_role(session, world.acme_admin.id, world.globex.id) is Role.AGENT
        assert await membership_role(session, world.loner.id, world.acme.id) is None
        assert await workspaces_of(session, world.loner.id) == []
    assert listed == [("Acme", Role.ADMIN), ("Globex", Role.AGENT)]


async def test_concurrent_wrong_passwords_verify_at_most_the_limit(
    db: tuple[async_sessionmaker[AsyncSession], World],
    hashing: HashingPool,
) -> None:
    sessions, _world = db
    now = utcnow()

    async def attempt(password: str, at: datetime) -> str:
        try:
            await login(sessions, "agent@acme.test", password, TOKENS, at, hashing)
        except InvalidCredentials:
            return "invalid"
        except LoginThrottled:
            return "throttled"
        return "ok"

    outcomes = await asyncio.gather(*(attempt("guess", now) for _ in range(12)))
    assert outcomes.count("invalid") == LOCKOUT_FAILURES, outcomes
    assert outcomes.count("throttled") == 12 - LOCKOUT_FAILURES
    assert await attempt(TEST_PASSWORD, now + LOCKOUT_WINDOW - timedelta(seconds=1)) == "throttled"
    assert await attempt(TEST_PASSWORD, now + LOCKOUT_WINDOW + timedelta(seconds=1)) == "ok"
