"""Pusher's documented behaviour the local server keeps, as the official clients see it: subscription
counting, the 164-character channel name limit, and the presence member limits."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pusher
import pusher.errors
import pytest

from tests.e2e.node import NodeSubscriber, node_publish
from tests.support.local_pusher import LocalPusher, WebhookReceiver, running_local_pusher
from waxos.pusher_protocol.limits import MAX_CHANNEL_NAME_LENGTH, MAX_USER_ID_LENGTH

pytestmark = pytest.mark.needs_node

StartJs = Callable[..., Awaitable[NodeSubscriber]]


def local_auth(server: LocalPusher, **extra: Any) -> dict[str, Any]:
    return {"appId": server.app_id, "secret": server.secret, **extra}


async def test_pusher_js_learns_the_subscription_count_and_the_webhook_carries_it(
    webhook_receiver: WebhookReceiver, pusher_js: StartJs
) -> None:
    with running_local_pusher(webhook_url=webhook_receiver.url, enable_subscription_count=True) as server:
        options = server.node_options(localAuth=local_auth(server), channels=["counted", "private-counted"])
        first = await pusher_js(options)
        assert (await first.expect("subscription_count", channel="counted"))["count"] == 1
        assert (await first.expect("subscription_count", channel="private-counted"))["count"] == 1
        second = await pusher_js(options)
        assert (await first.expect("subscription_count", channel="counted"))["count"] == 2
        assert (await second.expect("subscription_count", channel="counted"))["count"] == 2
        await second.send("disconnect")
        assert (await first.expect("subscription_count", channel="counted"))["count"] == 1
        # Presence channels are not counted: their members are the count.
        await first.send("subscribe", channel="presence-room")
        await first.drain(0.3)
        assert not [
            line for line in first.lines if line.get("channel") == "presence-room" and "count" in line
        ]
        events = webhook_receiver.wait_for(8)
    counted = [(e["channel"], e["subscription_count"]) for e in events if e["name"] == "subscription_count"]
    assert ("counted", 2) in counted and counted.count(("counted", 1)) == 2
    validator = pusher.Pusher(app_id=server.app_id, key=server.key, secret=server.secret)
    for headers, body in webhook_receiver.requests:
        assert validator.validate_webhook(headers["X-Pusher-Key"], headers["X-Pusher-Signature"], body)


async def test_channel_names_over_164_characters_are_refused_to_every_client(
    local_pusher: LocalPusher, pusher_js: StartJs, node: str
) -> None:
    longest = "c" * MAX_CHANNEL_NAME_LENGTH
    too_long = "c" * (MAX_CHANNEL_NAME_LENGTH + 1)
    client = await pusher_js(local_pusher.node_options(channels=[too_long, longest]))
    refused = await client.expect("subscription_error", channel=too_long)
    assert refused["error"]["status"] == 400
    await client.expect("subscribed", channel=longest)
    # The SDKs let 200 characters through; the server answers as Pusher does.
    sdk = local_pusher.sdk()
    with pytest.raises(pusher.errors.PusherBadRequest, match="Invalid channel name"):
        await asyncio.to_thread(sdk.trigger, too_long, "e", {})
    await asyncio.to_thread(sdk.trigger, longest, "from-python", {})
    [from_node, node_ok] = node_publish(
        node,
        local_pusher.node_options(),
        [
            {"op": "trigger", "channel": too_long, "event": "e", "data": {}},
            {"op": "trigger", "channel": longest, "event": "from-node", "data": {}},
        ],
    )
    assert from_node["status"] == 400 and node_ok["status"] == 200
    await client.expect("event", event="from-python")
    await client.expect("event", event="from-node")


@pytest.mark.parametrize(
    ("presence", "reason"),
    [
        ({"user_id": "u" * (MAX_USER_ID_LENGTH + 1)}, "user_id is longer"),
        ({"user_id": "u1", "user_info": {"bio": "x" * 1_100}}, "user_info is larger"),
    ],
    ids=["user-id-over-128", "user-info-over-1kb"],
)
async def test_presence_members_beyond_the_limits_are_refused_to_pusher_js(
    local_pusher: LocalPusher, pusher_js: StartJs, presence: dict[str, Any], reason: str
) -> None:
    options = local_pusher.node_options(
        localAuth=local_auth(local_pusher, presence=presence), channels=["presence-room", "still-here"]
    )
    client = await pusher_js(options)
    refused = await client.expect("subscription_error", channel="presence-room")
    assert refused["error"]["status"] == 400 and reason in refused["error"]["error"]
    await client.expect("subscribed", channel="still-here")
