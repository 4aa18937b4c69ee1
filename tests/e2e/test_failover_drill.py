"""The failover drill as a test: kill the primary provider under three clients while events flow; every
client polls, goes live on the secondary, then back on the primary, and applies every event once, in order.

Short thresholds (failover after 1.5 s, failback after 2.5 s); about 30 s per database.
`bench/failover_drill.py` runs the same drill and prints its figures.
"""

from __future__ import annotations

import asyncio
import signal
import time

import pytest

from tests.support.accounts import build_world, migrated
from tests.support.environment import free_port, require_node
from tests.support.events import emit_messages
from tests.support.failover_drill import DrillTiming, run_drill, secondary_settings
from tests.support.realtime_stack import REALTIME_CLIENT, NodeFollower, api_in_thread, pusher_server_process
from tests.support.settings import make_settings
from waxos.channels.names import private_workspace_channel
from waxos.db.engine import transaction
from waxos.providers.state import Provider, read_active

pytestmark = pytest.mark.needs_node

TIMING = DrillTiming(
    failover_after=1.5,
    failback_after=2.5,
    probe_every=0.3,
    before_kill=1.0,
    on_secondary=1.0,
    after_failback=1.0,
)


async def test_killing_the_primary_loses_and_repeats_nothing(database_url: str) -> None:
    result = await run_drill(require_node(), database_url, TIMING)
    report = "\n".join(result.lines())
    assert all(count > 20 for count in result.emitted.values()), report
    for client in result.clients:
        assert (client.lost, client.duplicates, client.out_of_order) == (0, 0, 0), report
        assert client.polling_after_kill_s is not None, report
        assert client.live_on_secondary_after_kill_s is not None, report
        assert client.live_on_primary_after_restart_s is not None, report
        assert client.states[-1] == "live", report


async def test_with_the_secondary_down_too_clients_stay_polling_and_lose_nothing(database_url: str) -> None:
    node = require_node()
    async with migrated(database_url) as (_engine, sessions):
        world = await build_world(sessions)
        chats = private_workspace_channel(world.acme.id, "chats")
        port = free_port()
        settings = {**secondary_settings(free_port(), TIMING), "waxos_failover_after_seconds": 0.5}
        options = {
            "token": world.token(world.acme_agent, minutes=30),
            "channels": [chats],
            "options": TIMING.client,
        }
        with (
            pusher_server_process(port) as primary,
            api_in_thread(database_url, port, **settings) as api,
            NodeFollower.start(node, {**options, "baseUrl": api}, REALTIME_CLIENT) as client,
        ):
            client.wait_for(lambda lines: any(line.get("state") == "live" for line in lines))
            primary.send_signal(signal.SIGKILL)
            primary.wait()
            killed = time.time() * 1000
            for _ in range(10):
                await emit_messages(sessions, chats, 2)
                await asyncio.sleep(0.3)
            client.wait_for(lambda _: client.seqs("applied", chats) == list(range(1, 21)))
            async with transaction(sessions) as session:
                active = await read_active(session, make_settings(database_url, **settings))
    after_kill = [line["state"] for line in client.of("state") if line["wall"] >= killed]
    assert after_kill and set(after_kill) == {"polling"}, client.summary()
    assert (active.provider, active.epoch) == (Provider.PRIMARY, 1), "no switch to a provider that is down"
