"""Faults that must lose nothing: Pusher down mid-stream, the relay SIGKILLed mid-batch, 429/5xx/timeouts."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.support.accounts import build_world, migrated
from tests.support.environment import free_port, require_node
from tests.support.events import emit_messages, log_rows, until_delivered
from tests.support.local_pusher import running_local_pusher
from tests.support.realtime_stack import (
    SECRET,
    NodeFollower,
    api_in_thread,
    pusher_server_process,
    server_env,
    waxos_process,
)
from tests.support.settings import PUSHER_KEY, make_settings
from waxos.channels.names import private_workspace_channel
from waxos.publisher.service import PusherService
from waxos.relay.relay import Relay, RelayConfig


def rewinds(seqs: list[int]) -> int:
    """How often a sequence goes back (a re-sent batch starts again below what was already seen)."""
    return sum(1 for before, after in itertools.pairwise(seqs) if after <= before)


@pytest.mark.needs_node
async def test_pusher_down_mid_stream_then_back_loses_nothing(database_url: str) -> None:
    node = require_node()
    port = free_port()
    async with migrated(database_url) as (_engine, sessions):
        world = await build_world(sessions)
        channels = [private_workspace_channel(world.acme.id, name) for name in ("chats", "notifications")]
        with ExitStack() as stack:
            api = stack.enter_context(api_in_thread(database_url, port))
            server = stack.enter_context(pusher_server_process(port))
            options = {
                "key": PUSHER_KEY,
                "host": "127.0.0.1",
                "port": port,
                "channels": channels,
                "apiBase": api,
                "token": world.token(world.acme_agent, minutes=30),
            }
            follower = stack.enter_context(NodeFollower.start(node, options))
            follower.wait_for(lambda _: len(follower.of("subscribed")) == 2)

            async def stream(count: int) -> None:
                for _ in range(count):
                    for channel in channels:
                        await emit_messages(sessions, channel, 1)
                    await asyncio.sleep(0.03)

            await stream(10)
            server.kill()  # the Pusher endpoint dies mid-stream
            server.wait()
            await stream(10)
            with pusher_server_process(port):
                await stream(10)
                for channel in channels:
                    follower.wait_for(
                        lambda _, c=channel: follower.seqs("applied", c) == list(range(1, 31)), 60
                    )
                await until_delivered(sessions, 60, seconds=60)
        for channel in channels:
            live = follower.seqs("live", channel)
            assert live == sorted(set(live)), "live delivery kept each channel's order, without repeats"
        assert follower.of("error") == [] and follower.of("resync") == []


@pytest.mark.needs_node
async def test_a_relay_killed_mid_batch_loses_nothing_and_repeats_only_its_batch(database_url: str) -> None:
    node = require_node()
    per_channel, channels = 1500, [f"private-workspace-{n}.chats" for n in (1, 2, 3)]
    total = per_channel * len(channels)
    async with migrated(database_url) as (_engine, sessions):
        with running_local_pusher(key=PUSHER_KEY, secret=SECRET) as server:
            options = {"key": PUSHER_KEY, "host": server.host, "port": server.port, "channels": channels}
            with NodeFollower.start(node, {**options, "secret": SECRET}) as follower:
                follower.wait_for(lambda _: len(follower.of("subscribed")) == 3)
                for channel in channels:
                    await emit_messages(sessions, channel, per_channel)
                env = server_env(database_url, server.port)
                # A lease long enough that the relay's request timeout (a third of it, at most
                # PUSHER_TIMEOUT_SECONDS) stays 5 s: on a loaded machine a slow answer taken for a timeout
                # is re-sent, which would add repeats beyond the killed round's. The second relay takes
                # over when the killed one's lease ends.
                relay_args = ("relay", "--lease-seconds", "15")
                with waxos_process(*relay_args, env=env) as relay:
                    await until_delivered(sessions, 300, seconds=60)
                    relay.kill()
                    relay.wait()
                marked = sum(row.delivered_at is not None for row in await log_rows(sessions))
                assert marked < total, "the relay was killed before it finished"
                with waxos_process(*relay_args, env=env):
                    await until_delivered(sessions, total, seconds=90)
                    for channel in channels:
                        follower.wait_for(
                            lambda _, c=channel: len(set(follower.seqs("live", c))) == per_channel
                        )
        # At-least-once: every event arrived; repeats come only from the round in flight at the kill
        # (at most 100 events per channel), each channel rewinding at most once, then in order again.
        for channel in channels:
            live = follower.seqs("live", channel)
            assert set(live) == set(range(1, per_channel + 1))
            assert len(live) - per_channel <= RelayConfig().per_channel
            assert rewinds(live) <= 1


@dataclass
class ScriptedPusher:
    """An HTTP stand-in for Pusher's batch endpoint on 127.0.0.1 that fails as scripted, then accepts."""

    script: list[str]
    hang_seconds: float = 1.5
    times: list[float] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self) -> str:
        with self.lock:
            self.times.append(time.monotonic())
            outcome = self.script.pop(0) if self.script else "ok"
            self.outcomes.append(outcome)
            return outcome


@contextmanager
def scripted_pusher(script: list[str]) -> Iterator[tuple[ScriptedPusher, int]]:
    stand_in = ScriptedPusher(script)
    port = free_port()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            outcome = stand_in.answer()
            if outcome == "hang":
                time.sleep(stand_in.hang_seconds)
                return
            status, headers = {"429": (429, {"Retry-After": "1"}), "503": (503, {})}.get(outcome, (200, {}))
            if status == 200:
                with stand_in.lock:
                    stand_in.received += [json.loads(item["data"]) for item in json.loads(body)["batch"]]
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield stand_in, port
    finally:
        httpd.shutdown()
        httpd.server_close()


async def test_429_then_5xx_then_timeout_are_backed_off_without_loss(database_url: str) -> None:
    channel = "private-workspace-1.chats"
    with scripted_pusher(["429", "503", "hang"]) as (stand_in, port):
        settings = make_settings(database_url, pusher_port=port, pusher_timeout_seconds=0.5)
        async with migrated(database_url) as (engine, sessions):
            publisher = PusherService(settings)
            config = RelayConfig(base_delay=0.4, max_delay=4.0, sweep_seconds=0.5, request_timeout=0.5)
            relay = Relay(engine, publisher, config)
            await emit_messages(sessions, channel, 20)
            await relay.start()
            try:
                for _ in range(4):  # events keep coming while the relay backs off
                    await asyncio.sleep(0.4)
                    await emit_messages(sessions, channel, 5)
                await until_delivered(sessions, 40, seconds=60)
            finally:
                await relay.aclose()
                await publisher.aclose()
    times, outcomes = stand_in.times, stand_in.outcomes
    assert outcomes[:4] == ["429", "503", "hang", "ok"]
    assert times[1] - times[0] >= 1.0  # Retry-After: 1
    assert times[2] - times[1] >= 0.4  # second failure: at least half of 0.8 s
    assert times[3] - times[2] >= 0.5 + 0.8  # the 0.5 s timeout, then at least half of 1.6 s
    # No busy loop: after three failures, one probe, then a request per ten events.
    assert len(outcomes) <= 3 + 1 + 40 // 10 + 1
    seqs = [event["seq"] for event in stand_in.received]
    assert seqs == list(range(1, 41))
