"""Webhooks through real HTTP: signed, in order, retried, and never in the way of delivery."""

from __future__ import annotations

import asyncio
import time

import httpx
import pusher

from tests.support.local_pusher import WebhookReceiver, running_local_pusher
from tests.support.pusher_client import PusherClient
from waxos.pusher_server.webhook_sender import WebhookSender


async def test_lifecycle_webhooks_validate_with_the_official_sdk(webhook_receiver: WebhookReceiver) -> None:
    with running_local_pusher(webhook_url=webhook_receiver.url) as server:
        a = await PusherClient.open(server)
        b = await PusherClient.open(server)
        await a.subscribe("presence-room", user={"user_id": "a"})
        await b.subscribe("presence-room", user={"user_id": "b"})
        await a.recv()  # member_added b
        await a.send({"event": "client-hi", "channel": "presence-room", "data": {"x": 1}})
        await b.recv()
        await b.subscribe("cache-news")
        await b.close()
        webhook_receiver.wait_for(8)
        await a.close()
        events = webhook_receiver.wait_for(10)
    names = [(e["name"], e.get("channel"), e.get("user_id")) for e in events]
    assert names == [
        ("channel_occupied", "presence-room", None),
        ("member_added", "presence-room", "a"),
        ("member_added", "presence-room", "b"),
        ("client_event", "presence-room", "a"),
        ("channel_occupied", "cache-news", None),
        ("cache_miss", "cache-news", None),
        ("member_removed", "presence-room", "b"),
        ("channel_vacated", "cache-news", None),
        ("member_removed", "presence-room", "a"),
        ("channel_vacated", "presence-room", None),
    ]
    assert events[3]["data"] == '{"x":1}' and events[3]["event"] == "client-hi"
    validator = pusher.Pusher(app_id=server.app_id, key=server.key, secret=server.secret)
    for headers, body in webhook_receiver.requests:
        assert headers["Content-Type"] == "application/json"
        parsed = validator.validate_webhook(headers["X-Pusher-Key"], headers["X-Pusher-Signature"], body)
        assert parsed is not None
        assert abs(parsed["time_ms"] - time.time() * 1000) < 60_000


async def test_failing_receiver_is_retried_without_delaying_delivery(
    webhook_receiver: WebhookReceiver,
) -> None:
    webhook_receiver.fail_first = 2
    with running_local_pusher(webhook_url=webhook_receiver.url) as server:
        a = await PusherClient.open(server)
        started = time.monotonic()
        await a.subscribe("room")
        await asyncio.to_thread(server.sdk().trigger, "room", "e", "d")
        assert (await a.recv())["event"] == "e"
        assert time.monotonic() - started < 0.5
        [event] = webhook_receiver.wait_for(1)
        assert event == {"name": "channel_occupied", "channel": "room"}
        assert webhook_receiver.attempts == 3
        await a.close()


async def test_a_batch_that_cannot_be_sent_is_dropped_and_the_worker_goes_on() -> None:
    posted: list[bytes] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if b"poison" in request.content:
            raise ValueError("not an HTTP error: a bug on this side")
        posted.append(request.content)
        return httpx.Response(200)

    sender = WebhookSender(
        "http://receiver.test/hooks", key="k", secret="s", transport=httpx.MockTransport(handle)
    )
    await sender.start()
    sender.submit([{"name": "channel_occupied", "channel": "poison"}])
    sender.submit([{"name": "channel_occupied", "channel": "next"}])
    await sender.aclose()
    assert (sender.dropped, sender.delivered) == (1, 1)
    assert b'"channel":"next"' in posted[0]
