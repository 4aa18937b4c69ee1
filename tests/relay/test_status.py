"""Each relay reports its breaker, failures and counts to the database, and drops its row on a clean stop."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.support.accounts import migrated
from tests.support.events import CHATS, FakePusher, emit_messages, relay_for, scripted, until_delivered
from waxos.db.base import utcnow
from waxos.db.engine import transaction
from waxos.relay import status
from waxos.relay.status import RelaySnapshot, RelayStatus


async def reports(sessions: async_sessionmaker[AsyncSession]) -> list[RelayStatus]:
    """Every relay's row, newest heartbeat first."""
    async with sessions() as session:
        return await status.statuses(session)


async def test_a_relay_reports_failures_by_kind_and_forgets_itself_on_a_clean_stop(
    database_url: str, fake: FakePusher
) -> None:
    fake.script = [lambda _r: scripted(500), lambda _r: scripted(429)]
    async with migrated(database_url) as (engine, sessions):
        relay = relay_for(engine, fake, status_every_seconds=0.05, metrics_every_seconds=0.05)
        await emit_messages(sessions, CHATS, 3)
        await relay.start()
        try:
            await until_delivered(sessions, 3)
            # The report after delivery: breaker closed again, both failures counted by kind.
            async with asyncio.timeout(20):
                while not (found := await reports(sessions)) or found[0].delivered < 3:
                    await asyncio.sleep(0.05)
        finally:
            await relay.aclose()
        after_stop = await reports(sessions)
    (row,) = found
    assert row.owner == relay.config.owner and row.provider == "primary"
    assert row.breaker == "closed" and row.consecutive_failures == 0 and row.retry_at is None
    assert json.loads(row.failures) == {"rate_limited": 1, "server_error": 1}
    assert after_stop == []


async def test_rows_of_relays_silent_for_a_day_are_dropped_by_the_next_report(database_url: str) -> None:
    now = utcnow()

    def snapshot(owner: str) -> RelaySnapshot:
        return RelaySnapshot(owner, "primary", "127.0.0.1:1", now, "open", 3, now, 5, 0, {"timeout": 3})

    async with migrated(database_url) as (_, sessions):
        async with transaction(sessions) as session:
            await status.report(session, snapshot("dead"), now - timedelta(days=2))
            await status.report(session, snapshot("alive"), now)
        assert [row.owner for row in await reports(sessions)] == ["alive"]
