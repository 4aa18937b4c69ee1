"""The HTTP API through real sockets: the official Python SDK publishing to WebSocket subscribers."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
import pusher.errors
import pytest

from tests.support.local_pusher import LocalPusher
from tests.support.pusher_client import PusherClient
from waxos.pusher_protocol.signing import body_md5, sign_request


async def sdk(call: Any, *args: Any, **kwargs: Any) -> Any:
    """The SDK is synchronous: run it off the test's event loop."""
    return await asyncio.to_thread(call, *args, **kwargs)


async def test_every_event_once_in_order_to_exactly_the_subscribers(local_pusher: LocalPusher) -> None:
    client = local_pusher.sdk()
    a = await PusherClient.open(local_pusher)
    b = await PusherClient.open(local_pusher)
    outsider = await PusherClient.open(local_pusher)
    await a.subscribe("orders")
    await b.subscribe("orders")
    await outsider.subscribe("other")
    for i in range(50):
        assert await sdk(client.trigger, "orders", "order.created", {"i": i}) == {}
    for subscriber in (a, b):
        frames = [await subscriber.recv() for _ in range(50)]
        assert [json.loads(f["data"])["i"] for f in frames] == list(range(50))
        assert {f["channel"] for f in frames} == {"orders"}
        await subscriber.expect_silence()
    await outsider.expect_silence(0.05)
    await sdk(client.trigger, ["orders", "other"], "ping", "x", socket_id=a.socket_id)
    await a.expect_silence()
    assert (await b.recv())["event"] == "ping" and (await outsider.recv())["channel"] == "other"


async def test_batch_info_users_and_terminate(local_pusher: LocalPusher) -> None:
    client = local_pusher.sdk()
    member = await PusherClient.open(local_pusher)
    await member.signin({"id": "u1"})
    await member.subscribe("presence-team", user={"user_id": "u1"})
    batch = [{"channel": "presence-team", "name": "e", "data": str(i)} for i in range(10)]
    assert await sdk(client.trigger_batch, batch) == {}
    assert [(await member.recv())["data"] for _ in range(10)] == [str(i) for i in range(10)]
    info = await sdk(client.channel_info, "presence-team", ["user_count", "subscription_count"])
    assert info == {"occupied": True, "user_count": 1, "subscription_count": 1}
    assert await sdk(client.users_info, "presence-team") == {"users": [{"id": "u1"}]}
    assert await sdk(client.channels_info, "presence-", ["user_count"]) == {
        "channels": {"presence-team": {"user_count": 1}}
    }
    await sdk(client.send_to_user, "u1", "hello", {"a": 1})
    # Delivered to the signed-in connection even before it subscribes to #server-to-user-u1.
    assert (await member.recv())["channel"] == "#server-to-user-u1"
    # The SDK's terminate_user_connections posts without /apps/{id}; both paths work.
    assert await sdk(client.terminate_user_connections, "u1") == {}
    error = await member.recv()
    assert error["data"] == {"code": 4009, "message": "You got disconnected by the app."}
    await asyncio.wait_for(member.ws.wait_closed(), 5)
    assert member.ws.close_code == 4009


async def test_over_ten_in_a_batch_and_oversized_data(local_pusher: LocalPusher) -> None:
    client = local_pusher.sdk()
    batch = [{"channel": "c", "name": "e", "data": "d"} for _ in range(11)]
    with pytest.raises(pusher.errors.PusherBadRequest, match="at most 10"):
        await sdk(client.trigger_batch, batch)
    with pytest.raises(pusher.errors.PusherBadStatus, match="413"):
        await sdk(client.trigger, "c", "e", "x" * 10_241)


def signed_url(server: LocalPusher, method: str, path: str, body: bytes, **params: str) -> str:
    query = {"auth_key": server.key, "auth_timestamp": f"{time.time():.0f}", "auth_version": "1.0"}
    query |= {"body_md5": body_md5(body)} | params
    query["auth_signature"] = sign_request(server.secret, method, path, query)
    return f"{server.http_url}{path}?" + "&".join(f"{k}={v}" for k, v in query.items())


async def test_bad_requests_get_pusher_statuses(local_pusher: LocalPusher) -> None:
    path = f"/apps/{local_pusher.app_id}/events"
    body = json.dumps({"name": "e", "data": "d", "channels": ["c"]}).encode()
    stale = f"{time.time() - 700:.0f}"
    async with httpx.AsyncClient() as http:
        ok = await http.post(signed_url(local_pusher, "POST", path, body), content=body)
        assert (ok.status_code, ok.json()) == (200, {})
        replay = await http.post(
            signed_url(local_pusher, "POST", path, body, auth_timestamp=stale), content=body
        )
        assert replay.status_code == 401 and replay.text.startswith("Timestamp expired")
        tampered = await http.post(signed_url(local_pusher, "POST", path, body), content=body + b" ")
        assert tampered.status_code == 401 and "body_md5" in tampered.text
        unknown = await http.post(signed_url(local_pusher, "POST", "/apps/42/events", body), content=body)
        assert unknown.status_code == 404
        huge = b"x" * 1_100_000
        too_big = await http.post(signed_url(local_pusher, "POST", path, huge), content=huge)
        assert too_big.status_code == 413
        assert (await http.get(f"{local_pusher.http_url}/")).status_code == 404


async def test_a_captured_url_replayed_with_case_folded_duplicates_publishes_nothing(
    local_pusher: LocalPusher,
) -> None:
    subscriber = await PusherClient.open(local_pusher)
    await subscriber.subscribe("orders")
    path = f"/apps/{local_pusher.app_id}/events"
    body = json.dumps({"name": "e", "data": "d", "channels": ["orders"]}).encode()
    captured = signed_url(local_pusher, "POST", path, body, auth_timestamp=f"{time.time() - 7 * 86_400:.0f}")
    signed = dict(part.split("=", 1) for part in captured.split("?", 1)[1].split("&"))
    forged = json.dumps({"name": "evil", "data": "owned", "channels": ["orders"]}).encode()
    query = (
        f"auth_timestamp={time.time():.0f}&body_md5={body_md5(forged)}&auth_key={signed['auth_key']}"
        f"&auth_version=1.0&auth_signature={signed['auth_signature']}"
        f"&AUTH_TIMESTAMP={signed['auth_timestamp']}&BODY_MD5={signed['body_md5']}"
    )
    async with httpx.AsyncClient() as http:
        response = await http.post(f"{local_pusher.http_url}{path}?{query}", content=forged)
    assert (response.status_code, response.text) == (400, "Duplicate query parameter: auth_timestamp\n")
    await subscriber.expect_silence()


async def test_odd_numbers_in_the_query_are_401_not_500(local_pusher: LocalPusher) -> None:
    path = f"/apps/{local_pusher.app_id}/channels"
    async with httpx.AsyncClient() as http:
        for timestamp in ("%C2%B2", "9" * 5_000):
            url = signed_url(local_pusher, "GET", path, b"", auth_timestamp=timestamp)
            response = await http.get(url)
            assert (response.status_code, response.text) == (
                401,
                "Missing or invalid auth_timestamp parameter\n",
            )
