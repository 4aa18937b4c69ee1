"""Unmodified official clients against the local server: pusher-js subscribing, the Python and Node
SDKs publishing. Each test would fail if the local server differed from Pusher where clients look."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.e2e.node import NodeSubscriber, node_publish
from tests.support.local_pusher import LocalPusher, WebhookReceiver, running_local_pusher

pytestmark = pytest.mark.needs_node

StartJs = Callable[..., Awaitable[NodeSubscriber]]
MASTER_KEY = base64.b64encode(b"waxos-test-master-key-32-bytes!!").decode()


def local_auth(server: LocalPusher, **extra: Any) -> dict[str, Any]:
    return {"appId": server.app_id, "secret": server.secret, **extra}


async def publish_py(call: Any, *args: Any, **kwargs: Any) -> Any:
    return await asyncio.to_thread(call, *args, **kwargs)


async def test_each_event_exactly_once_in_order_to_the_right_connections(
    local_pusher: LocalPusher, pusher_js: StartJs, node: str
) -> None:
    base = local_pusher.node_options(localAuth=local_auth(local_pusher))
    both = await pusher_js({**base, "channels": ["orders", "private-team"]})
    orders_only = await pusher_js({**base, "channels": ["orders"]})
    bystander = await pusher_js({**base, "channels": ["elsewhere"]})
    for subscriber, count in ((both, 2), (orders_only, 1), (bystander, 1)):
        for _ in range(count):
            await subscriber.expect("subscribed")
    client = local_pusher.sdk()
    for i in range(20):
        await publish_py(client.trigger, ["orders", "private-team"], "order.updated", {"seq": i})
    results = node_publish(
        node,
        local_pusher.node_options(),
        [
            {"op": "trigger", "channel": "orders", "event": "order.node", "data": {"seq": i}}
            for i in range(20)
        ],
    )
    assert all(result["status"] == 200 for result in results)
    await both.expect("event", event="order.node", data={"seq": 19})
    await orders_only.expect("event", event="order.node", data={"seq": 19})
    for subscriber in (both, orders_only, bystander):
        await subscriber.drain(0.3)
    python_seq = [e["data"]["seq"] for e in both.events("private-team")]
    assert python_seq == list(range(20))
    orders = [(e["event"], e["data"]["seq"]) for e in both.events("orders")]
    expected = [("order.updated", i) for i in range(20)] + [("order.node", i) for i in range(20)]
    assert orders == expected
    assert [(e["event"], e["data"]["seq"]) for e in orders_only.events()] == expected
    assert bystander.events() == []


async def test_socket_id_exclusion_with_both_sdks(
    local_pusher: LocalPusher, pusher_js: StartJs, node: str
) -> None:
    sender = await pusher_js({**local_pusher.node_options(), "channels": ["room"]})
    other = await pusher_js({**local_pusher.node_options(), "channels": ["room"]})
    await sender.expect("subscribed")
    await other.expect("subscribed")
    await publish_py(local_pusher.sdk().trigger, "room", "py", {"a": 1}, socket_id=sender.socket_id)
    node_publish(
        node,
        local_pusher.node_options(),
        [{"op": "trigger", "channel": "room", "event": "js", "data": {}, "socketId": sender.socket_id}],
    )
    await other.expect("event", event="js")
    await sender.drain(0.3)
    assert [e["event"] for e in other.events()] == ["py", "js"] and sender.events() == []


async def test_presence_members_and_client_events(local_pusher: LocalPusher, pusher_js: StartJs) -> None:
    def options(user: str) -> dict[str, Any]:
        presence = {"user_id": user, "user_info": {"name": user.title()}}
        return local_pusher.node_options(
            localAuth=local_auth(local_pusher, presence=presence),
            channels=["presence-room"],
            bindEvents=["client-typing"],
        )

    alice = await pusher_js(options("alice"))
    joined = await alice.expect("subscribed")
    assert joined["members"] == {
        "count": 1,
        "me": {"id": "alice", "info": {"name": "Alice"}},
        "ids": ["alice"],
    }
    bob = await pusher_js(options("bob"))
    assert (await bob.expect("subscribed"))["members"]["count"] == 2
    added = await alice.expect("member_added")
    assert added["user_id"] == "bob" and added["user_info"] == {"name": "Bob"}
    # A second tab of Alice: no member_added anywhere, still two members.
    alice_tab = await pusher_js(options("alice"))
    assert (await alice_tab.expect("subscribed"))["members"]["count"] == 2
    await bob.send("trigger", channel="presence-room", event="client-typing", data={"typing": True})
    await alice.expect("event", event="client-typing")
    await alice_tab.expect("event", event="client-typing")
    await bob.drain(0.3)
    assert bob.events() == []  # never echoed to the sender
    typing = await alice.expect("event_meta", event="client-typing")
    assert typing["data"] == {"typing": True} and typing["user_id"] == "bob"
    # Only Alice's last connection leaving removes her.
    await alice_tab.send("disconnect")
    await bob.drain(0.3)
    assert not [line for line in bob.lines if line["type"] == "member_removed"]
    await alice.send("disconnect")
    removed = await bob.expect("member_removed")
    assert removed["user_id"] == "alice"


async def test_encrypted_channel_with_both_sdks(pusher_js: StartJs, node: str) -> None:
    with running_local_pusher() as server:
        auth = local_auth(server, encryptionMasterKeyBase64=MASTER_KEY)
        subscriber = await pusher_js(
            server.node_options(localAuth=auth, channels=["private-encrypted-vault"])
        )
        await subscriber.expect("subscribed")
        client = server.sdk(encryption_master_key_base64=MASTER_KEY)
        await publish_py(client.trigger, "private-encrypted-vault", "secret.py", {"code": 1})
        node_publish(
            node,
            server.node_options(encryptionMasterKeyBase64=MASTER_KEY),
            [
                {
                    "op": "trigger",
                    "channel": "private-encrypted-vault",
                    "event": "secret.js",
                    "data": {"code": 2},
                }
            ],
        )
        await subscriber.expect("event", event="secret.py", data={"code": 1})
        await subscriber.expect("event", event="secret.js", data={"code": 2})


async def test_signin_send_to_user_and_terminate(
    local_pusher: LocalPusher, pusher_js: StartJs, node: str
) -> None:
    auth = local_auth(local_pusher, user={"id": "u42", "user_info": {"name": "Ada"}})
    ada = await pusher_js(local_pusher.node_options(localAuth=auth, signin=True))
    await ada.expect("signed_in")
    local_pusher.wait_until(lambda: "#server-to-user-u42" in local_pusher.app.core.hub.occupied_channels("#"))
    await publish_py(local_pusher.sdk().send_to_user, "u42", "notice.py", {"n": 1})
    [result] = node_publish(
        node,
        local_pusher.node_options(),
        [{"op": "sendToUser", "userId": "u42", "event": "notice.js", "data": {"n": 2}}],
    )
    assert result["status"] == 200
    assert (await ada.expect("user_event", event="notice.py"))["data"] == {"n": 1}
    assert (await ada.expect("user_event", event="notice.js"))["data"] == {"n": 2}
    [result] = node_publish(
        node, local_pusher.node_options(), [{"op": "terminateUserConnections", "userId": "u42"}]
    )
    assert result == {"op": "terminateUserConnections", "status": 200, "body": {}}
    # 4009 is a refusal for pusher-js: it does not reconnect.
    await ada.expect("state", current="disconnected")
    await ada.drain(1.0)
    assert [line["current"] for line in ada.lines if line["type"] == "state"][-1] == "disconnected"
    assert local_pusher.call(lambda: len(local_pusher.app.core.connections)) == 0


async def test_server_refusal_reaches_pusher_js_and_the_connection_stays(
    local_pusher: LocalPusher, pusher_js: StartJs
) -> None:
    wrong = {"appId": local_pusher.app_id, "secret": "not-the-secret"}
    client = await pusher_js(local_pusher.node_options(localAuth=wrong, channels=["private-x", "public-y"]))
    refusal = await client.expect("subscription_error", channel="private-x")
    assert refusal["error"]["status"] == 401
    await client.expect("subscribed", channel="public-y")
    await publish_py(local_pusher.sdk().trigger, "public-y", "still-here", {})
    await client.expect("event", event="still-here")
    assert not [line for line in client.lines if line["type"] == "state" and line["current"] != "connected"][
        1:
    ]


async def test_cache_channel_miss_then_last_event(local_pusher: LocalPusher, pusher_js: StartJs) -> None:
    first = await pusher_js({**local_pusher.node_options(), "channels": ["cache-prices"]})
    await first.expect("cache_miss", channel="cache-prices")
    await publish_py(local_pusher.sdk().trigger, "cache-prices", "price", {"eur": 3})
    await first.expect("event", event="price")
    late = await pusher_js({**local_pusher.node_options(), "channels": ["cache-prices"]})
    assert (await late.expect("event", event="price"))["data"] == {"eur": 3}


async def test_webhooks_from_pusher_js_activity(
    webhook_receiver: WebhookReceiver, pusher_js: StartJs
) -> None:
    with running_local_pusher(webhook_url=webhook_receiver.url) as server:
        presence = {"user_id": "w1"}
        client = await pusher_js(
            server.node_options(localAuth=local_auth(server, presence=presence), channels=["presence-hooks"])
        )
        await client.expect("subscribed")
        await client.send("disconnect")
        events = webhook_receiver.wait_for(4)
    assert [e["name"] for e in events] == [
        "channel_occupied",
        "member_added",
        "member_removed",
        "channel_vacated",
    ]


async def test_auth_endpoint_with_bearer_header(
    local_pusher: LocalPusher, pusher_js: StartJs, auth_endpoint: str
) -> None:
    good = {"authEndpoint": auth_endpoint, "authHeaders": {"Authorization": "Bearer good-token"}}
    client = await pusher_js(local_pusher.node_options(**good, channels=["private-a", "presence-b"]))
    await client.expect("subscribed", channel="private-a")
    members = (await client.expect("subscribed", channel="presence-b"))["members"]
    assert members["me"]["id"] == "endpoint-user"
    bad = {"authEndpoint": auth_endpoint, "authHeaders": {"Authorization": "Bearer wrong"}}
    refused = await pusher_js(local_pusher.node_options(**bad, channels=["private-a"]))
    error = await refused.expect("subscription_error")
    assert error["error"]["status"] == 403


@pytest.fixture
def auth_endpoint(local_pusher: LocalPusher) -> Any:
    """A stand-in for `POST /api/v1/pusher/auth`: bearer token in, the Python SDK's auth out."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from urllib.parse import parse_qs

    from tests.support.environment import free_port

    sdk = local_pusher.sdk()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
            if self.headers.get("Authorization") != "Bearer good-token":
                self.send_response(403)
                self.end_headers()
                return
            channel, socket_id = form["channel_name"][0], form["socket_id"][0]
            user = {"user_id": "endpoint-user"} if channel.startswith("presence-") else None
            body = json.dumps(
                sdk.authenticate(channel=channel, socket_id=socket_id, custom_data=user)
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    port = free_port()
    httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/api/v1/pusher/auth"
    httpd.shutdown()
    httpd.server_close()
