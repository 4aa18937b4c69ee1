"""The usage recorder: a background task that samples live counts and rolls the log up, hour by hour.

It runs wherever a relay runs (`waxos serve` with its relay, or `waxos relay`): the roll-up must read the
log before pruning removes events, and the relay's loop is what prunes. The sampler also exports the
per-workspace gauges the near-limit alerts watch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from waxos.config import Settings
from waxos.db.base import utcnow
from waxos.db.engine import make_sessionmaker, transaction
from waxos.usage.metrics import UsageMetrics
from waxos.usage.rollup import (
    LiveCounts,
    hour_of,
    oldest_logged,
    pusher_messages_on,
    record_live,
    roll_up,
)

logger = logging.getLogger(__name__)

# An event is counted in the hour its id was made, but may commit a little later: an hour is recounted
# until this long after it ended.
LATE_COMMIT = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class LiveSnapshot:
    """Live counts per workspace, and subscribers per channel (for the Pusher message estimate)."""

    workspaces: Mapping[int, LiveCounts]
    channel_subscribers: Mapping[str, int]


LiveSource = Callable[[AsyncSession], Awaitable[LiveSnapshot]]


class UsageRecorder:
    """Samples `live` every `sample_seconds`, recounts the log every `rollup_seconds`, until stopped."""

    def __init__(
        self,
        engine: AsyncEngine,
        live: LiveSource,
        metrics: UsageMetrics,
        sample_seconds: float = 15.0,
        rollup_seconds: float = 60.0,
    ) -> None:
        self._sessions = make_sessionmaker(engine)
        self._live = live
        self.metrics = metrics
        self.sample_seconds = sample_seconds
        self.rollup_seconds = rollup_seconds
        self._stopped = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._rolled_up_to: datetime | None = None  # None: roll up everything the log holds first
        self._next_rollup = 0.0

    async def start(self) -> None:
        """Run in the background of the current event loop."""
        self._task = asyncio.create_task(self.run(), name="waxos-usage")

    async def aclose(self) -> None:
        """Stop and wait for the task."""
        self._stopped.set()
        if self._task is not None:
            await self._task

    async def run(self) -> None:
        """Tick until stopped; a database outage is logged and retried at the next tick."""
        while not self._stopped.is_set():
            try:
                await self.tick(utcnow())
            except (SQLAlchemyError, OSError) as exc:
                logger.warning("usage recorder cannot reach the database (%s); retrying", exc)
            except Exception:
                logger.exception("usage recorder tick failed; retrying")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.sample_seconds):
                    await self._stopped.wait()

    async def tick(self, now: datetime) -> None:
        """Sample live counts into the hour's peaks and the gauges; recount the log when due."""
        async with transaction(self._sessions) as session:
            live = await self._live(session)
            await record_live(session, now, live.workspaces)
        self.metrics.show_live(live.workspaces)
        clock = time.monotonic()
        if clock < self._next_rollup:
            return
        self._next_rollup = clock + self.rollup_seconds
        async with transaction(self._sessions) as session:
            hours = await self._hours_due(session, now)
            await roll_up(session, hours, live.channel_subscribers)
            self.metrics.pusher_messages_today.set(await pusher_messages_on(session, now))
        self._rolled_up_to = hour_of(now - LATE_COMMIT)

    async def _hours_due(self, session: AsyncSession, now: datetime) -> list[datetime]:
        """The current hour and any not recounted since it ended; at first, every hour the log holds."""
        start = self._rolled_up_to
        if start is None:
            start = await oldest_logged(session) or now
        hours, hour = [], hour_of(start)
        while hour <= now:
            hours.append(hour)
            hour += timedelta(hours=1)
        return hours


def recorder_for(
    settings: Settings, engine: AsyncEngine, live: LiveSource, metrics: UsageMetrics
) -> UsageRecorder:
    """A recorder with the settings' intervals."""
    return UsageRecorder(
        engine,
        live,
        metrics,
        sample_seconds=settings.waxos_usage_sample_seconds,
        rollup_seconds=settings.waxos_usage_rollup_seconds,
    )
