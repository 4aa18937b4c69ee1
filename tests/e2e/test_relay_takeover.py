"""Drill: two `waxos relay` processes, one SIGKILLed while it holds a channel; the other takes over.

Fails if a crashed relay's channels wait out a long lease (30 s before issue 13), or if two relays ever
deliver one channel at once (a channel's live seqs would then interleave, not merely restart once).
The takeover time it prints is a figure, not a limit (bench/takeover.py measures it).
"""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest
from sqlalchemy import select

from tests.support.accounts import migrated
from tests.support.environment import require_node
from tests.support.events import emit_messages
from tests.support.local_pusher import running_local_pusher
from tests.support.realtime_stack import SECRET, NodeFollower, server_env, waxos_process
from tests.support.settings import PUSHER_KEY
from waxos.relay.leases import RelayLease

CHANNELS = ["private-workspace-1.chats", "private-workspace-2.chats", "private-workspace-3.chats"]
# The default lease is 3 s and a relay looks for work every second: a generous bound for a loaded machine,
# far below the 30 s lease this drill was written against.
TAKEOVER_BOUND_SECONDS = 12.0


def rewinds(seqs: list[int]) -> int:
    """How often a sequence goes back (a re-sent batch starts again below what was already seen)."""
    return sum(1 for before, after in itertools.pairwise(seqs) if after <= before)


@pytest.mark.needs_node
async def test_a_killed_relay_s_channels_move_within_seconds_and_never_to_two_relays(
    database_url: str,
) -> None:
    node = require_node()
    async with migrated(database_url) as (_engine, sessions):

        async def owners() -> dict[str, str]:
            async with sessions() as session:
                rows = await session.execute(select(RelayLease.channel, RelayLease.owner))
                return dict(list(rows))  # a Result has keys(): dict() would take it for a mapping

        with running_local_pusher(key=PUSHER_KEY, secret=SECRET) as server:
            options = {"key": PUSHER_KEY, "host": server.host, "port": server.port, "channels": CHANNELS}
            with NodeFollower.start(node, {**options, "secret": SECRET}) as follower:
                follower.wait_for(lambda _: len(follower.of("subscribed")) == len(CHANNELS))
                env = server_env(database_url, server.port)
                with (
                    waxos_process("relay", "--relay-id", "relay-a", env=env) as relay_a,
                    waxos_process("relay", "--relay-id", "relay-b", env=env) as relay_b,
                ):
                    processes = {"relay-a": relay_a, "relay-b": relay_b}
                    sent = 0
                    # Both relays run: a steady stream, each channel delivered by whichever leases it.
                    for _ in range(20):
                        for channel in CHANNELS:
                            await emit_messages(sessions, channel, 1)
                        sent += 1
                        await asyncio.sleep(0.05)
                    for channel in CHANNELS:
                        follower.wait_for(
                            lambda _, c=channel, n=sent: len(set(follower.seqs("live", c))) == n
                        )
                    held = await owners()
                    victim = held[CHANNELS[0]]
                    processes[victim].kill()
                    processes[victim].wait()
                    killed_at = time.time() * 1000
                    before_kill = {channel: follower.seqs("live", channel) for channel in CHANNELS}
                    # One more event per channel, logged after the kill: when does the subscriber get it?
                    for channel in CHANNELS:
                        await emit_messages(sessions, channel, 1)
                    sent += 1
                    last = sent
                    follower.wait_for(
                        lambda _: last in follower.seqs("live", CHANNELS[0]), TAKEOVER_BOUND_SECONDS + 10
                    )
                    arrived = min(
                        line["wall"] for line in follower.of("live", CHANNELS[0]) if line["seq"] == last
                    )
                    for channel in CHANNELS:
                        follower.wait_for(
                            lambda _, c=channel, n=sent: len(set(follower.seqs("live", c))) == n
                        )
                    survivor = ({"relay-a", "relay-b"} - {victim}).pop()
                    assert (await owners())[CHANNELS[0]] == survivor
        takeover = (arrived - killed_at) / 1000
        print(f"takeover of a SIGKILLed relay's channel: {takeover:.2f} s")  # noqa: T201 - the drill's figure
        assert takeover < TAKEOVER_BOUND_SECONDS
        for channel in CHANNELS:
            live = follower.seqs("live", channel)
            assert set(live) == set(range(1, sent + 1))
            # While both ran, each channel went out through one relay only: no repeats at all.
            assert before_kill[channel] == sorted(set(before_kill[channel]))
            # After the kill, at most the victim's unmarked round is sent again, once, then in order.
            assert rewinds(live) <= 1
