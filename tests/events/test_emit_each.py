"""`emit_each`: one event on many channels, each with its own next seq, in two statements."""

from __future__ import annotations

import json

import pytest

from tests.support.accounts import migrated
from tests.support.events import log_rows, message
from waxos.db.engine import transaction
from waxos.events import ChannelRefused, NotificationSystem, emit, emit_each
from waxos.events.catchup import read_after

ANNOUNCEMENT = NotificationSystem(notification_id=7, level="info", code="maintenance")


async def test_each_channel_gets_the_event_with_its_own_next_seq(database_url: str) -> None:
    channels = [f"private-workspace-{n}.notifications" for n in range(1, 6)]
    async with migrated(database_url) as (_engine, sessions):
        async with transaction(sessions) as session:
            await emit(session, channels[2], message(1))
        async with transaction(sessions) as session:
            assert await emit_each(session, [*reversed(channels), channels[0]], ANNOUNCEMENT) == 5
        rows = await log_rows(sessions)
        async with sessions() as session:
            page = await read_after(session, channels[2], 0, 10)
    announced = {row.channel: row for row in rows if row.type == "notification.system"}
    assert sorted(announced) == sorted(channels)
    assert {channel: row.seq for channel, row in announced.items()} == {
        channel: 2 if channel == channels[2] else 1 for channel in channels
    }
    for channel, row in announced.items():
        envelope = json.loads(row.payload)
        assert (envelope["channel"], envelope["seq"], envelope["data"]) == (
            channel,
            row.seq,
            ANNOUNCEMENT.data(),
        )
        assert envelope["workspace_id"] == int(channel.split("-")[2].split(".")[0])
    assert len({row.id for row in announced.values()}) == 5
    assert [json.loads(e)["seq"] for e in page.events] == [1, 2]


async def test_a_public_channel_refuses_the_whole_fan_out(database_url: str) -> None:
    async with migrated(database_url) as (_engine, sessions):
        with pytest.raises(ChannelRefused):
            async with transaction(sessions) as session:
                await emit_each(
                    session, ["private-workspace-1.notifications", "workspace-2.news"], ANNOUNCEMENT
                )
        assert await log_rows(sessions) == []
