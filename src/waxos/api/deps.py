"""Dependencies routes declare with `Annotated` aliases; resources come from the app's lifespan state."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from waxos.config import Settings
from waxos.metrics import ServiceMetrics

# Dependencies are `async def` even when they do not await: FastAPI runs plain functions in a worker
# thread per request, which cost more than the rest of a channel-auth request.


async def get_settings(request: Request) -> Settings:
    """The validated settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


async def get_metrics(request: Request) -> ServiceMetrics:
    """The API's metrics."""
    metrics: ServiceMetrics = request.app.state.metrics
    return metrics


async def get_sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    """The session factory."""
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    return sessions


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session inside one transaction: committed when the route returns, rolled back if it raises."""
    async with (await get_sessions(request))() as session, session.begin():
        yield session


async def get_read_sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    """The session factory for transactions that only read (`waxos.db.engine.read_only`): same pool, and
    on SQLite a deferred BEGIN that takes no write lock, so reads never queue behind writing requests."""
    sessions: async_sessionmaker[AsyncSession] = request.app.state.read_sessions
    return sessions


async def get_read_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A session inside one read-only transaction, for routes that never write: never write through it."""
    async with (await get_read_sessions(request))() as session, session.begin():
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
MetricsDep = Annotated[ServiceMetrics, Depends(get_metrics)]
SessionsDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessions)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]
ReadSessionsDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_read_sessions)]
ReadSessionDep = Annotated[AsyncSession, Depends(get_read_session)]
