"""Usage reports for the dashboard: hourly and daily series and per-workspace totals, from the roll-ups."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from waxos.usage.rollup import HOUR, hour_of
from waxos.usage.tables import UsageHour

DAY = timedelta(days=1)


@dataclass(slots=True)
class Totals:
    """Counts over a period: sums of events and messages, the highest live counts seen."""

    events: int = 0
    chat_messages: int = 0
    pusher_messages: int = 0
    connections_peak: int = 0
    subscriptions_peak: int = 0
    presence_peak: int = 0

    def add(self, other: Totals) -> None:
        """Fold `other` (a later or parallel period) into these totals."""
        self.events += other.events
        self.chat_messages += other.chat_messages
        self.pusher_messages += other.pusher_messages
        self.connections_peak = max(self.connections_peak, other.connections_peak)
        self.subscriptions_peak = max(self.subscriptions_peak, other.subscriptions_peak)
        self.presence_peak = max(self.presence_peak, other.presence_peak)


@dataclass(frozen=True, slots=True)
class Point:
    """One bucket of a series: its start and totals."""

    start: datetime
    totals: Totals = field(default_factory=Totals)


def _sums(grouped_by: Any) -> Any:
    # Peaks of several workspaces in one hour are summed: an upper bound of the account's peak (each
    # workspace's peak may fall at a different moment of the hour).
    return select(
        grouped_by,
        func.sum(UsageHour.events),
        func.sum(UsageHour.chat_messages),
        func.sum(UsageHour.pusher_messages),
        func.sum(UsageHour.connections_peak),
        func.sum(UsageHour.subscriptions_peak),
        func.sum(UsageHour.presence_peak),
    )


def _scoped(
    statement: Any,
    workspaces: Collection[int] | None,
    since: datetime,
) -> Any:
    statement = statement.where(UsageHour.hour >= since)
    if workspaces is not None:
        statement = statement.where(UsageHour.workspace_id.in_(sorted(workspaces)))
    return statement


async def hourly(
    session: AsyncSession, workspaces: Collection[int] | None, now: datetime, hours: int = 24
) -> list[Point]:
    """The last `hours` UTC hours up to `now`'s, oldest first, zeros where nothing was recorded."""
    last = hour_of(now)
    first = last - HOUR * (hours - 1)
    rows = await session.execute(_scoped(_sums(UsageHour.hour), workspaces, first).group_by(UsageHour.hour))
    found = {hour_of(row[0]): _totals(row[1:]) for row in rows}
    return [Point(first + HOUR * n, found.get(first + HOUR * n, Totals())) for n in range(hours)]


async def daily(
    session: AsyncSession, workspaces: Collection[int] | None, now: datetime, days: int = 30
) -> list[Point]:
    """The last `days` UTC days up to `now`'s, oldest first: hourly sums folded into days (peaks: max)."""
    today = hour_of(now).replace(hour=0)
    first = today - DAY * (days - 1)
    points = {first + DAY * n: Point(first + DAY * n) for n in range(days)}
    for point in await hourly(session, workspaces, now, hours=days * 24):
        day = point.start.replace(hour=0)
        if day in points:
            points[day].totals.add(point.totals)
    return list(points.values())


async def by_workspace(
    session: AsyncSession, workspaces: Collection[int] | None, since: datetime
) -> dict[int, Totals]:
    """Each workspace's totals since `since` (peaks: the highest hour)."""
    statement: Any = select(
        UsageHour.workspace_id,
        func.sum(UsageHour.events),
        func.sum(UsageHour.chat_messages),
        func.sum(UsageHour.pusher_messages),
        func.max(UsageHour.connections_peak),
        func.max(UsageHour.subscriptions_peak),
        func.max(UsageHour.presence_peak),
    )
    rows = await session.execute(_scoped(statement, workspaces, since).group_by(UsageHour.workspace_id))
    return {int(row[0]): _totals(row[1:]) for row in rows}


def _totals(values: Any) -> Totals:
    """Totals from a row's six sums (None where no row matched)."""
    return Totals(*(int(value or 0) for value in values))
