"""The usage recorder: samples live counts into peaks and gauges, and rolls up what the log holds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from tests.support.accounts import migrated
from tests.support.events import emit_messages
from tests.support.settings import make_settings
from waxos.db.engine import transaction
from waxos.events.tables import LoggedEvent
from waxos.usage.metrics import UsageMetrics
from waxos.usage.recorder import LiveSnapshot, UsageRecorder
from waxos.usage.rollup import LiveCounts, hour_of
from waxos.usage.tables import UsageHour


async def test_a_tick_records_peaks_exports_gauges_and_rolls_up(database_url: str) -> None:
    live = {1: LiveCounts(4, 10, 3), 2: LiveCounts(1, 2, 1)}

    async def source(_session: AsyncSession) -> LiveSnapshot:
        return LiveSnapshot(live, {"private-workspace-1.chats": 4})

    registry = CollectorRegistry()
    metrics = UsageMetrics(make_settings(database_url, waxos_plan_max_connections=40), registry)
    async with migrated(database_url) as (engine, sessions):
        await emit_messages(sessions, "private-workspace-1.chats", 2)
        recorder = UsageRecorder(engine, source, metrics)
        now = datetime.now(UTC)
        await recorder.tick(now)
        live = {1: LiveCounts(2, 5, 1)}  # workspace 2 went quiet; workspace 1 dropped below its peak
        await recorder.tick(now)
        async with sessions() as session:
            stored = {r.workspace_id: r for r in await session.scalars(select(UsageHour))}
    assert (stored[1].connections_peak, stored[1].subscriptions_peak, stored[1].presence_peak) == (4, 10, 3)
    assert (stored[1].events, stored[1].pusher_messages) == (2, 2 * 5)
    assert stored[2].connections_peak == 1
    assert registry.get_sample_value("waxos_workspace_connections", {"workspace": "1"}) == 2
    assert registry.get_sample_value("waxos_workspace_connections", {"workspace": "2"}) is None
    assert registry.get_sample_value("waxos_workspace_presence_members", {"workspace": "1"}) == 1
    assert registry.get_sample_value("waxos_usage_pusher_messages_today") == 2 * 5
    assert registry.get_sample_value("waxos_plan_max_connections") == 40
    assert registry.get_sample_value("waxos_plan_warn_ratio") == 0.8


async def test_a_new_recorder_first_rolls_up_every_hour_the_log_holds(database_url: str) -> None:
    async def nothing(_session: AsyncSession) -> LiveSnapshot:
        return LiveSnapshot({}, {})

    async with migrated(database_url) as (engine, sessions):
        await emit_messages(sessions, "private-workspace-1.chats", 3)
        now = datetime.now(UTC)
        recorder = UsageRecorder(engine, nothing, UsageMetrics(make_settings(database_url)))
        # Started five hours later: the hour of the events is still rolled up, once.
        await recorder.tick(now + timedelta(hours=5))
        async with transaction(sessions) as session:
            await session.execute(update(LoggedEvent).values(delivered_at=now))
            stored = list(await session.scalars(select(UsageHour)))
    assert [(r.workspace_id, r.hour, r.events) for r in stored] == [(1, hour_of(now), 3)]
