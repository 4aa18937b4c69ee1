"""pusher-js under Node, the local Pusher server, the API and its relay: a subscriber that reconnects
gets exactly the events it missed from catch-up, in order, once."""

from __future__ import annotations

import pytest

from tests.support.accounts import build_world, migrated
from tests.support.environment import require_node
from tests.support.events import emit_messages, log_rows, until_delivered
from tests.support.local_pusher import running_local_pusher
from tests.support.realtime_stack import SECRET, NodeFollower, api_in_thread
from tests.support.settings import PUSHER_KEY
from waxos.channels.names import private_workspace_channel

pytestmark = pytest.mark.needs_node


async def test_a_reconnecting_subscriber_gets_exactly_the_gap_from_catch_up(database_url: str) -> None:
    node = require_node()
    async with migrated(database_url) as (_engine, sessions):
        world = await build_world(sessions)
        channel = private_workspace_channel(world.acme.id, "chats")
        with (
            running_local_pusher(key=PUSHER_KEY, secret=SECRET) as server,
            api_in_thread(database_url, server.port) as api,
        ):
            options = {
                "key": PUSHER_KEY,
                "host": server.host,
                "port": server.port,
                "channels": [channel],
                "apiBase": api,
                "token": world.token(world.acme_agent, minutes=30),
            }
            with NodeFollower.start(node, options) as follower:
                # The first subscription catches up from 0 (nothing yet), then live events flow.
                follower.wait_for(lambda _: len(follower.of("catchup")) == 1)
                await emit_messages(sessions, channel, 5)
                # Both handlers see each live event; the helper's runs first.
                follower.wait_for(lambda _: follower.seqs("live", channel) == [1, 2, 3, 4, 5])
                assert follower.seqs("applied", channel) == [1, 2, 3, 4, 5]

                follower.send("disconnect")
                follower.wait_for(lambda lines: any(line.get("current") == "disconnected" for line in lines))
                await emit_messages(sessions, channel, 7)
                # The relay published them while nobody listened: Pusher keeps no history.
                await until_delivered(sessions, 12)
                follower.send("connect")
                follower.wait_for(lambda _: follower.seqs("applied", channel) == list(range(1, 13)))

                gap_fill = follower.of("catchup")[-1]
                assert (gap_fill["after"], gap_fill["status"], gap_fill["seqs"]) == (
                    5,
                    200,
                    list(range(6, 13)),
                )
                assert follower.seqs("live", channel) == [1, 2, 3, 4, 5]

                await emit_messages(sessions, channel, 3)
                follower.wait_for(lambda _: follower.seqs("applied", channel) == list(range(1, 16)))
                assert follower.of("resync") == [] and follower.of("error") == []
        assert all(row.delivered_at is not None for row in await log_rows(sessions))
