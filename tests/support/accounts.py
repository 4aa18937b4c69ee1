"""Test helpers for accounts: a migrated database holding the demo world, its users' tokens, a running API.

Passwords are hashed with deliberately cheap argon2 parameters so that tests stay fast; a hash carries
its own parameters, so the production verify path checks them unchanged.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

import httpx
from argon2 import PasswordHasher
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from tests.support.asgi import asgi_client
from tests.support.settings import TOKEN_SECRET, make_settings
from waxos.app import create_app
from waxos.auth.models import User, Workspace
from waxos.auth.passwords import hash_password
from waxos.auth.seed import seed_demo
from waxos.auth.tokens import issue_access_token
from waxos.db.base import utcnow
from waxos.db.engine import make_engine, make_sessionmaker, transaction
from waxos.db.migrate import upgrade

FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
TEST_PASSWORD = "not-a-real-password-test-only"


@dataclass(frozen=True)
class World:
    """The demo accounts plus a user who belongs to no workspace."""

    acme: Workspace
    globex: Workspace
    acme_admin: User
    acme_agent: User
    acme_agent2: User
    globex_admin: User
    loner: User
    operator: User

    def token(self, user: User, minutes: int = 10, age: timedelta = timedelta()) -> str:
        """An access token for `user`, issued `age` ago and valid for `minutes` from then."""
        return issue_access_token(
            user.id, user.token_generation, TOKEN_SECRET, timedelta(minutes=minutes), utcnow() - age
        )


async def build_world(sessions: async_sessionmaker[AsyncSession]) -> World:
    """Seed the demo accounts (cheap hashes) and a workspace-less user."""
    async with transaction(sessions) as session:
        await seed_demo(session, TEST_PASSWORD, FAST_HASHER)
        session.add(
            User(
                email="loner@nowhere.test",
                name="Lone User",
                password_hash=hash_password(TEST_PASSWORD, FAST_HASHER),
            )
        )
    async with transaction(sessions) as session:
        users = {u.email: u for u in await session.scalars(select(User))}
        workspaces = {w.name: w for w in await session.scalars(select(Workspace))}
    return World(
        acme=workspaces["Acme"],
        globex=workspaces["Globex"],
        acme_admin=users["admin@acme.test"],
        acme_agent=users["agent@acme.test"],
        acme_agent2=users["agent2@acme.test"],
        globex_admin=users["admin@globex.test"],
        loner=users["loner@nowhere.test"],
        operator=users["operator@waxos.test"],
    )


@asynccontextmanager
async def migrated(database_url: str) -> AsyncIterator[tuple[AsyncEngine, async_sessionmaker[AsyncSession]]]:
    """An engine and session factory on a freshly migrated database."""
    await upgrade(database_url)
    engine = make_engine(database_url)
    try:
        yield engine, make_sessionmaker(engine)
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class Api:
    """A running app (lifespan started), a client for it, and the world in its database."""

    client: httpx.AsyncClient
    world: World
    sessions: async_sessionmaker[AsyncSession]
    app: FastAPI


@asynccontextmanager
async def running_api(database_url: str, **overrides: object) -> AsyncIterator[Api]:
    """The API on a migrated, seeded database, served in-process."""
    await upgrade(database_url)
    app = create_app(make_settings(database_url, **overrides))
    async with asgi_client(app) as client:
        yield Api(client, await build_world(app.state.sessions), app.state.sessions, app)
