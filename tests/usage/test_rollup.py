"""Hourly roll-ups: counted from the log per workspace and hour, never lowered by a recount or pruning."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.support.accounts import migrated
from tests.support.events import emit_messages
from waxos.db.engine import transaction
from waxos.events import NotificationSystem, emit
from waxos.events.tables import LoggedEvent
from waxos.usage.rollup import LiveCounts, hour_of, oldest_logged, record_live, roll_up
from waxos.usage.tables import NO_WORKSPACE, UsageHour

ACME = "private-workspace-1.chats"


async def rows(sessions: async_sessionmaker[AsyncSession]) -> dict[tuple[int, datetime], UsageHour]:
    """Every usage row, by workspace and hour."""
    async with sessions() as session:
        return {(r.workspace_id, r.hour): r for r in await session.scalars(select(UsageHour))}


async def test_events_are_counted_per_workspace_and_hour_from_the_log(database_url: str) -> None:
    async with migrated(database_url) as (_, sessions):
        await emit_messages(sessions, ACME, 3)
        await emit_messages(sessions, "private-workspace-2.chats", 2)
        await emit_messages(sessions, "private-user-7", 1)
        async with transaction(sessions) as session:
            notice = NotificationSystem(notification_id=1, level="info", code="maintenance")
            await emit(session, "private-workspace-1.notifications", notice)
        now = datetime.now(UTC)
        async with transaction(sessions) as session:
            # Two subscribers on Acme's chats: each of its events is one API message plus two deliveries.
            written = await roll_up(session, [now], {ACME: 2})
        counted = await rows(sessions)
    hour = hour_of(now)
    assert written == 3
    acme = counted[(1, hour)]
    assert (acme.events, acme.chat_messages, acme.pusher_messages) == (4, 3, 3 * 3 + 1)
    assert (counted[(2, hour)].events, counted[(2, hour)].chat_messages) == (2, 2)
    assert counted[(NO_WORKSPACE, hour)].events == 1


async def test_only_the_hour_asked_for_is_counted(database_url: str) -> None:
    async with migrated(database_url) as (_, sessions):
        await emit_messages(sessions, ACME, 2)
        async with transaction(sessions) as session:
            assert await roll_up(session, [datetime.now(UTC) - timedelta(hours=1)], {}) == 0
            assert await roll_up(session, [datetime.now(UTC) + timedelta(hours=1)], {}) == 0
        assert await rows(sessions) == {}


async def test_a_recount_after_pruning_never_lowers_the_count(database_url: str) -> None:
    async with migrated(database_url) as (_, sessions):
        await emit_messages(sessions, ACME, 5)
        now = datetime.now(UTC)
        async with transaction(sessions) as session:
            await roll_up(session, [now], {})
            await session.execute(delete(LoggedEvent).where(LoggedEvent.seq <= 3))
        async with transaction(sessions) as session:
            await roll_up(session, [now], {})
        assert (await rows(sessions))[(1, hour_of(now))].events == 5
        await emit_messages(sessions, ACME, 4)  # seq 6-9: two remain of the first five, plus four
        async with transaction(sessions) as session:
            await roll_up(session, [now], {})
        assert (await rows(sessions))[(1, hour_of(now))].events == 6


async def test_live_counts_keep_the_hours_peak(database_url: str) -> None:
    async with migrated(database_url) as (_, sessions):
        now = datetime.now(UTC)
        for connections, subscriptions, presence in ((3, 9, 2), (5, 7, 1), (4, 12, 1)):
            async with transaction(sessions) as session:
                await record_live(session, now, {1: LiveCounts(connections, subscriptions, presence)})
        row = (await rows(sessions))[(1, hour_of(now))]
    assert (row.connections_peak, row.subscriptions_peak, row.presence_peak) == (5, 12, 2)
    assert row.events == 0


async def test_oldest_logged_reads_the_time_in_the_first_event_id(database_url: str) -> None:
    async with migrated(database_url) as (_, sessions):
        async with sessions() as session:
            assert await oldest_logged(session) is None
        before = datetime.now(UTC)
        await emit_messages(sessions, ACME, 1)
        async with transaction(sessions) as session:
            await session.execute(update(LoggedEvent).values(occurred_at=before - timedelta(days=1)))
            oldest = await oldest_logged(session)
    assert oldest is not None
    assert before - timedelta(milliseconds=1) <= oldest <= datetime.now(UTC)
