"""Routing the core's output: whatever acting on it produces is routed in the same dispatch."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from waxos.pusher_protocol import AppConfig
from waxos.pusher_protocol.signing import channel_string_to_sign, sign_auth
from waxos.pusher_server.app import PusherServer
from waxos.pusher_server.config import ServerConfig
from waxos.pusher_server.session import Session

KEY = "waxos-dev-key"
SECRET = "test-secret"
CHANNEL = "presence-room"


def subscribe_frame(socket_id: str, user_id: str) -> str:
    channel_data = json.dumps({"user_id": user_id})
    auth = sign_auth(KEY, SECRET, channel_string_to_sign(socket_id, CHANNEL, channel_data))
    data = {"channel": CHANNEL, "auth": auth, "channel_data": channel_data}
    return json.dumps({"event": "pusher:subscribe", "data": data})


async def test_a_slow_consumer_is_closed_by_bytes_queued_and_the_others_told_at_once() -> None:
    app = AppConfig(app_id="100001", key=KEY, secret=SECRET)
    server = PusherServer(ServerConfig(app=app, max_queued_bytes=1_000), clock=lambda: 1_800_000_000.0)
    stuck = asyncio.Event()
    observed: list[dict[str, Any]] = []

    async def never_returns(message: dict[str, Any]) -> None:
        await stuck.wait()

    async def record(message: dict[str, Any]) -> None:
        observed.append(message)

    sockets = []
    for user_id, send in (("slow", never_returns), ("watcher", record)):
        socket_id = server.core.connect(KEY, {"protocol": "7"}, 0.0)
        server.sessions[socket_id] = Session(socket_id, send)
        server.core.receive_text(socket_id, subscribe_frame(socket_id, user_id), 0.0)
        server._dispatch()
        sockets.append(socket_id)
    slow = sockets[0]
    await asyncio.sleep(0)  # the slow socket's writer is now stuck on its first frame
    sent = 0
    while slow in server.core.connections:
        server.core.publish("tick", [CHANNEL], "{}", None, 0.0)
        server._dispatch()
        sent += 1
        assert sent < 100
    # Everything the close produced was routed by the dispatch that closed it, not left in the core.
    assert server.core.take_output() == []
    # Measured in bytes, not frames: some twenty small frames went over a 1,000-byte bound, and what
    # was queued for the stuck socket was dropped at once.
    assert 10 < sent < 30
    assert server.sessions[slow].queued_bytes == 0
    for _ in range(sent + 10):
        await asyncio.sleep(0)
    events = [json.loads(m["text"]) for m in observed if m["type"] == "websocket.send"]
    removed = [e for e in events if e["event"] == "pusher_internal:member_removed"]
    assert [json.loads(e["data"]) for e in removed] == [{"user_id": "slow"}]
    for session in list(server.sessions.values()):
        await session.finish()
    stuck.set()


async def test_a_frame_the_socket_cannot_carry_closes_it_and_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "websocket.send":
            message["text"].encode()  # what the server does; a lone surrogate cannot be encoded
        sent.append(message)

    session = Session("1.1", send)
    session.enqueue("\ud800", 3)
    for _ in range(3):
        await asyncio.sleep(0)
    assert sent == [{"type": "websocket.close", "code": 1011, "reason": "Internal error"}]
    assert "cannot write to socket 1.1; closing it" in caplog.text
    await session.finish()


async def test_a_subscription_count_held_back_by_the_throttle_goes_out_when_due() -> None:
    clock = [1_800_000_000.0]
    app = AppConfig(app_id="100001", key=KEY, secret=SECRET, enable_subscription_count=True)
    server = PusherServer(ServerConfig(app=app), clock=lambda: clock[0])
    received: dict[str, list[dict[str, Any]]] = {}

    def recorder(socket_id: str) -> Any:
        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "websocket.send":
                received.setdefault(socket_id, []).append(json.loads(message["text"]))

        return send

    def join() -> str:
        socket_id = server.core.connect(KEY, {"protocol": "7"}, clock[0])
        server.sessions[socket_id] = Session(socket_id, recorder(socket_id))
        server.core.receive_text(socket_id, '{"event":"pusher:subscribe","data":{"channel":"big"}}', clock[0])
        server._dispatch()
        return socket_id

    def counts(socket_id: str) -> list[int]:
        frames = received.get(socket_id, [])
        return [json.loads(f["data"])["subscription_count"] for f in frames if "count" in f["event"]]

    watcher = join()
    for _ in range(99):
        join()
    clock[0] += 4.99  # the 101st arrives just before the 5 s since the last count are up: held back
    join()
    await asyncio.sleep(0.05)  # the timer fires, finds nothing due yet, and waits again
    assert counts(watcher)[-1] == 100
    clock[0] += 0.01
    for _ in range(50):
        await asyncio.sleep(0.01)
        if counts(watcher)[-1] == 101:
            break
    assert counts(watcher)[-1] == 101
    assert server.core.next_count_due() is None
    await server.shutdown()
    for session in list(server.sessions.values()):
        await session.finish()
