"""The WebSocket endpoint through real sockets: handshake, refusals, subscriptions, bad input."""

from __future__ import annotations

import asyncio
import gc
import json
import re

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.support.local_pusher import LocalPusher, running_local_pusher
from tests.support.pusher_client import PusherClient


async def test_handshake(local_pusher: LocalPusher) -> None:
    async with connect(local_pusher.ws_url()) as ws:
        frame = json.loads(await ws.recv())
    assert frame["event"] == "pusher:connection_established"
    data = json.loads(frame["data"])
    assert re.fullmatch(r"\d+\.\d+", data["socket_id"]) and data["activity_timeout"] == 120


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ({"key": "unknown-key"}, 4001),
        ({"query": "client=js"}, 4008),
        ({"query": "protocol=x"}, 4006),
        ({"query": "protocol=5"}, 4007),
        ({"query": "protocol=%C2%B2"}, 4006),  # '²', which str.isdigit() accepts and int() refuses
        ({"query": "protocol=" + "7" * 5_000}, 4007),
    ],
)
async def test_refusals_send_error_then_close_code(
    local_pusher: LocalPusher, url: dict[str, str], code: int
) -> None:
    async with connect(local_pusher.ws_url(**url)) as ws:
        frame = json.loads(await ws.recv())
        assert frame["event"] == "pusher:error" and frame["data"]["code"] == code
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == code


async def test_unknown_path_is_4005(local_pusher: LocalPusher) -> None:
    async with connect(f"ws://{local_pusher.host}:{local_pusher.port}/nope") as ws:
        assert json.loads(await ws.recv())["data"]["code"] == 4005
        with pytest.raises(ConnectionClosed) as closed:
            await ws.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4005


async def test_bad_input_keeps_the_connection(local_pusher: LocalPusher) -> None:
    client = await PusherClient.open(local_pusher)
    for frame in ["not json", b"\x00binary", json.dumps({"event": "what"}), "x" * 20_000]:
        await client.send(frame)
        reply = await client.recv()
        assert reply["event"] == "pusher:error" and reply["data"]["code"] is None
    reply = await client.subscribe("bad name!")
    assert reply["event"] == "pusher:error"
    assert (await client.recv())["event"] == "pusher:subscription_error"
    await client.send({"event": "pusher:ping", "data": {}})
    assert await client.recv() == {"event": "pusher:pong", "data": "{}"}
    await client.close()


async def test_frame_over_the_socket_limit_closes_only_that_socket() -> None:
    with running_local_pusher() as server:
        victim = await PusherClient.open(server)
        bystander = await PusherClient.open(server)
        await victim.send("x" * 1_100_000)
        with pytest.raises(ConnectionClosed) as closed:
            await victim.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
        await bystander.send({"event": "pusher:ping", "data": {}})
        assert (await bystander.recv())["event"] == "pusher:pong"
        await bystander.close()


async def test_bad_auth_sends_errors_and_keeps_the_connection(local_pusher: LocalPusher) -> None:
    client = await PusherClient.open(local_pusher)
    error = await client.subscribe("private-room", auth=f"{local_pusher.key}:0000")
    assert error["event"] == "pusher:error"
    assert error["data"]["message"].startswith("Invalid signature")
    refusal = await client.recv()
    assert refusal["event"] == "pusher:subscription_error"
    assert refusal["data"]["status"] == 401 and refusal["channel"] == "private-room"
    ok = await client.subscribe("private-room")
    assert ok == {"event": "pusher_internal:subscription_succeeded", "channel": "private-room", "data": "{}"}
    await client.close()


async def test_presence_member_events_between_real_sockets(local_pusher: LocalPusher) -> None:
    alice = await PusherClient.open(local_pusher)
    bob = await PusherClient.open(local_pusher)
    joined = await alice.subscribe("presence-room", user={"user_id": "alice", "user_info": {"n": "A"}})
    assert json.loads(joined["data"])["presence"]["count"] == 1
    joined = await bob.subscribe("presence-room", user={"user_id": "bob"})
    assert json.loads(joined["data"])["presence"] == {
        "ids": ["alice", "bob"],
        "hash": {"alice": {"n": "A"}, "bob": None},
        "count": 2,
    }
    added = await alice.recv()
    assert added["event"] == "pusher_internal:member_added"
    assert json.loads(added["data"]) == {"user_id": "bob", "user_info": None}
    await bob.close()
    removed = await alice.recv()
    assert removed["event"] == "pusher_internal:member_removed"
    assert json.loads(removed["data"]) == {"user_id": "bob"}
    await alice.close()


async def test_client_events_not_echoed_and_rate_limited(local_pusher: LocalPusher) -> None:
    a = await PusherClient.open(local_pusher)
    b = await PusherClient.open(local_pusher)
    await a.subscribe("private-chat")
    await b.subscribe("private-chat")
    for i in range(11):
        await a.send({"event": "client-typing", "channel": "private-chat", "data": {"i": i}})
    received = [await b.recv() for _ in range(10)]
    assert [frame["data"]["i"] for frame in received] == list(range(10))
    limited = await a.recv()
    assert limited["data"] == {"code": 4301, "message": "Client event rejected due to rate limit"}
    await a.expect_silence()
    await b.expect_silence()
    await a.close()
    await b.close()


async def test_client_events_off_by_switch() -> None:
    with running_local_pusher(enable_client_events=False) as server:
        a = await PusherClient.open(server)
        await a.subscribe("private-chat")
        await a.send({"event": "client-x", "channel": "private-chat", "data": {}})
        reply = await a.recv()
        assert reply["data"]["message"].startswith("To send client events, you must enable")
        await a.close()


async def test_liveness_ping_then_4201() -> None:
    with running_local_pusher(activity_timeout=1, pong_timeout=0.3) as server:
        client = await PusherClient.open(server)
        assert await client.recv(timeout=3) == {"event": "pusher:ping", "data": "{}"}
        with pytest.raises(ConnectionClosed) as closed:
            await client.recv(timeout=3)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4201
        # A client that answers stays connected.
        alive = await PusherClient.open(server)
        for _ in range(2):
            assert (await alive.recv(timeout=3))["event"] == "pusher:ping"
            await alive.send({"event": "pusher:pong", "data": {}})
        await alive.close()


async def test_disconnects_leave_no_sessions_or_tasks(local_pusher: LocalPusher) -> None:
    baseline = local_pusher.task_count()
    clients = [await PusherClient.open(local_pusher) for _ in range(20)]
    for client in clients:
        await client.subscribe("presence-x", user={"user_id": client.socket_id})
    for client in clients:
        await client.close()
    local_pusher.wait_until(lambda: not local_pusher.app.sessions)
    local_pusher.wait_until(lambda: not local_pusher.app.core.connections)
    assert local_pusher.app.core.hub.occupied_channels() == []
    local_pusher.wait_until(lambda: len(asyncio.all_tasks()) <= baseline)


async def test_unpaired_surrogates_are_invalid_json_and_no_task_dies_unobserved(
    local_pusher: LocalPusher,
) -> None:
    reported: list[dict[str, object]] = []

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
        reported.append(context)

    local_pusher.call(lambda: asyncio.get_running_loop().set_exception_handler(handler))
    sender = await PusherClient.open(local_pusher)
    other = await PusherClient.open(local_pusher)
    await sender.subscribe("private-x")
    await other.subscribe("private-x")
    for frame in [
        '{"event":"client-x","channel":"private-x","data":{"text":"\\ud800"}}',
        '{"event":"client-\\ud800","channel":"private-x","data":{}}',
        '{"event":"\\udfff"}',
    ]:
        await sender.send(frame)
        assert await sender.recv() == {
            "event": "pusher:error",
            "data": {"code": None, "message": "Received invalid JSON"},
        }
    await other.expect_silence()
    await sender.send({"event": "client-x", "channel": "private-x", "data": {"ok": "\U0001f600"}})
    assert (await other.recv())["data"] == {"ok": "\U0001f600"}
    await sender.close()
    await other.close()
    local_pusher.wait_until(lambda: not local_pusher.app.sessions)
    # A task that died with its exception unread reports it when it is collected.
    local_pusher.call(gc.collect)
    assert reported == []


async def test_connections_per_client_address_are_capped() -> None:
    with running_local_pusher(server_options={"max_connections_per_address": 2}) as server:
        first = await PusherClient.open(server)
        await PusherClient.open(server)
        async with connect(server.ws_url()) as third:
            assert json.loads(await third.recv()) == {
                "event": "pusher:error",
                "data": {"code": 4100, "message": "Too many connections from this address"},
            }
            with pytest.raises(ConnectionClosed) as closed:
                await third.recv()
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4100
        await first.close()
        server.wait_until(lambda: len(server.app.core.connections) == 1)
        again = await PusherClient.open(server)
        assert again.socket_id in server.call(lambda: list(server.app.core.connections))
