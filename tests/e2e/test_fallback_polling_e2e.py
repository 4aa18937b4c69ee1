"""The client package under Node with pusher-js, the API, its relay and a local Pusher server process:
when Pusher dies the client polls and keeps applying every event in order; when it returns, live again."""

from __future__ import annotations

import signal
import time

import pytest

from tests.support.accounts import build_world, migrated
from tests.support.environment import free_port, require_node
from tests.support.events import emit_messages
from tests.support.realtime_stack import REALTIME_CLIENT, NodeFollower, api_in_thread, pusher_server_process
from waxos.channels.names import private_workspace_channel, user_channel

pytestmark = pytest.mark.needs_node

TUNING = {"fallbackAfterMs": 1000, "pollMs": 300, "maxPollMs": 1500, "switchDelayMs": 200}


def states(client: NodeFollower) -> list[str]:
    """The client's states so far."""
    return [line["state"] for line in client.of("state")]


async def test_pusher_down_the_client_polls_every_event_in_order_then_goes_live_again(
    database_url: str,
) -> None:
    node = require_node()
    port = free_port()
    async with migrated(database_url) as (_engine, sessions):
        world = await build_world(sessions)
        chats = private_workspace_channel(world.acme.id, "chats")
        mine = user_channel(world.acme_agent.id)
        with api_in_thread(database_url, port) as api:
            options = {
                "baseUrl": api,
                "token": world.token(world.acme_agent, minutes=30),
                "channels": [chats, mine],
                "options": TUNING,
            }
            with (
                pusher_server_process(port) as pusher,
                NodeFollower.start(node, options, REALTIME_CLIENT) as client,
            ):
                client.wait_for(lambda _: states(client) == ["live"])
                await emit_messages(sessions, chats, 3)
                client.wait_for(lambda _: client.seqs("applied", chats) == [1, 2, 3])

                pusher.send_signal(signal.SIGKILL)
                pusher.wait()
                for _ in range(4):
                    await emit_messages(sessions, chats, 2)
                    await emit_messages(sessions, mine, 1)
                    time.sleep(0.3)
                client.wait_for(lambda _: "polling" in states(client))
                client.wait_for(lambda _: client.seqs("applied", chats) == list(range(1, 12)))
                client.wait_for(lambda _: client.seqs("applied", mine) == [1, 2, 3, 4])
                assert states(client) == ["live", "polling"]

                with pusher_server_process(port):
                    # pusher-js reconnects by itself; live again once resubscribed and caught up.
                    client.wait_for(lambda _: states(client)[-1] == "live", seconds=60)
                    await emit_messages(sessions, chats, 2)
                    client.wait_for(lambda _: client.seqs("applied", chats) == list(range(1, 14)))
                    assert client.of("resync") == [] and client.of("denied") == []
