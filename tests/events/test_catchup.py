"""Catch-up and retention: complete pages or `resync_required`, bounded log, undelivered never pruned."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.support.accounts import migrated
from tests.support.events import CHATS, OTHER, emit_messages, log_rows
from waxos.db.base import utcnow
from waxos.db.engine import transaction
from waxos.events.catchup import CatchUpPage, ResyncRequired, read_after
from waxos.events.retention import prune
from waxos.events.tables import LoggedEvent

DAY = timedelta(hours=24)


async def page(
    sessions: async_sessionmaker[AsyncSession], after: int, limit: int = 100, channel: str = CHATS
) -> CatchUpPage:
    async with sessions() as session:
        return await read_after(session, channel, after, limit)


def seqs(result: CatchUpPage) -> list[int]:
    return [json.loads(event)["seq"] for event in result.events]


async def age(
    sessions: async_sessionmaker[AsyncSession],
    channel: str,
    through: int,
    hours: float,
    delivered: bool = True,
) -> None:
    """Pretend events `1..through` of `channel` occurred `hours` ago (and were delivered)."""
    async with transaction(sessions) as session:
        await session.execute(
            update(LoggedEvent)
            .where(LoggedEvent.channel == channel, LoggedEvent.seq <= through)
            .values(
                occurred_at=utcnow() - timedelta(hours=hours),
                delivered_at=utcnow() if delivered else None,
            )
        )


async def test_pages_are_contiguous_from_after_with_the_head(database_url: str) -> None:
    async with migrated(database_url) as (_engine, sessions):
        envelopes = await emit_messages(sessions, CHATS, 12)
        await emit_messages(sessions, OTHER, 3)
        first = await page(sessions, 0, limit=5)
        second = await page(sessions, first.next_after, limit=5)
        last = await page(sessions, 10)
        caught_up = await page(sessions, 12)
        unknown = await page(sessions, 0, channel="private-workspace-9.chats")
    assert (seqs(first), first.next_after, first.head) == ([1, 2, 3, 4, 5], 5, 12)
    assert (seqs(second), second.next_after) == ([6, 7, 8, 9, 10], 10)
    assert (seqs(last), last.next_after) == ([11, 12], 12)
    assert (seqs(caught_up), caught_up.next_after, caught_up.head) == ([], 12, 12)
    assert (unknown.events, unknown.next_after, unknown.head) == ((), 0, 0)
    assert json.loads(first.events[0]) == json.loads(envelopes[0].encode())
    body = json.loads(second.encode())
    assert body["channel"] == CHATS and body["next_after"] == 10 and body["head"] == 12
    assert [event["seq"] for event in body["events"]] == [6, 7, 8, 9, 10]


async def test_a_position_beyond_the_head_requires_a_resync(database_url: str) -> None:
    async with migrated(database_url) as (_engine, sessions):
        await emit_messages(sessions, CHATS, 3)
        with pytest.raises(ResyncRequired) as raised:
            await page(sessions, 4)
        with pytest.raises(ResyncRequired):
            await page(sessions, 1, channel="private-workspace-9.chats")
    assert (raised.value.reason, raised.value.head) == ("ahead_of_head", 3)


async def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="limit"):
        await read_after(None, CHATS, 0, 1001)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="after"):
        await read_after(None, CHATS, -1, 10)  # type: ignore[arg-type]


async def test_pruning_drops_old_delivered_events_and_catch_up_from_before_them_must_resync(
    database_url: str,
) -> None:
    async with migrated(database_url) as (_engine, sessions):
        await emit_messages(sessions, CHATS, 10)
        await age(sessions, CHATS, through=6, hours=80)
        removed = await prune(sessions, timedelta(hours=72), utcnow())
        assert removed == 6
        assert [row.seq for row in await log_rows(sessions)] == [7, 8, 9, 10]
        for after in (0, 5):
            with pytest.raises(ResyncRequired) as raised:
                await page(sessions, after)
            assert (raised.value.reason, raised.value.head) == ("too_old", 10)
        assert seqs(await page(sessions, 6)) == [7, 8, 9, 10]
        # Pruning again finds nothing more; the remaining events are recent.
        assert await prune(sessions, timedelta(hours=72), utcnow()) == 0


async def test_undelivered_events_are_never_pruned_nor_anything_after_them(database_url: str) -> None:
    async with migrated(database_url) as (_engine, sessions):
        await emit_messages(sessions, CHATS, 6)
        await age(sessions, CHATS, through=6, hours=100)
        async with transaction(sessions) as session:
            await session.execute(update(LoggedEvent).where(LoggedEvent.seq == 3).values(delivered_at=None))
        assert await prune(sessions, timedelta(hours=72), utcnow()) == 2
        assert [row.seq for row in await log_rows(sessions)] == [3, 4, 5, 6]
        assert seqs(await page(sessions, 2)) == [3, 4, 5, 6]


async def test_a_fully_pruned_channel_still_knows_its_head(database_url: str) -> None:
    async with migrated(database_url) as (_engine, sessions):
        await emit_messages(sessions, CHATS, 4)
        await emit_messages(sessions, OTHER, 2)
        await age(sessions, CHATS, through=4, hours=1)
        assert await prune(sessions, timedelta(minutes=30), utcnow()) == 4
        empty = await page(sessions, 4)
        with pytest.raises(ResyncRequired):
            await page(sessions, 3)
        await emit_messages(sessions, CHATS, 1)
        assert seqs(await page(sessions, 4)) == [5]
        assert seqs(await page(sessions, 0, channel=OTHER)) == [1, 2]
    assert (empty.events, empty.head) == ((), 4)


async def test_retention_is_a_setting_of_the_prune_step(database_url: str) -> None:
    async with migrated(database_url) as (_engine, sessions):
        await emit_messages(sessions, CHATS, 2)
        await age(sessions, CHATS, through=2, hours=2 * 24)
        assert await prune(sessions, 3 * DAY, utcnow()) == 0
        assert await prune(sessions, DAY, utcnow()) == 2


class _CommitBetweenStatements:
    """A session whose first statement is followed by another transaction's commit, before the second."""

    def __init__(self, session: AsyncSession, commit: Callable[[], Awaitable[object]]) -> None:
        self._session = session
        self._commit: Callable[[], Awaitable[object]] | None = commit

    async def execute(self, *args: Any, **kwargs: Any) -> Any:
        result = await self._session.execute(*args, **kwargs)
        if self._commit is not None:
            commit, self._commit = self._commit, None
            await commit()
        return result


async def test_an_event_committed_while_catch_up_reads_is_no_reason_to_resync(
    postgres_database_url: str,
) -> None:
    # PostgreSQL only: each statement there sees the latest commits; one SQLite transaction is a snapshot.
    async with migrated(postgres_database_url) as (_engine, sessions):
        await emit_messages(sessions, CHATS, 2)
        async with sessions() as session:
            racing = _CommitBetweenStatements(session, lambda: emit_messages(sessions, CHATS, 1))
            result = await read_after(racing, CHATS, 0)  # type: ignore[arg-type]
        assert seqs(result) == list(range(1, result.head + 1))
        assert result.head in (2, 3)
        assert seqs(await page(sessions, result.next_after)) == list(range(result.head + 1, 4))
