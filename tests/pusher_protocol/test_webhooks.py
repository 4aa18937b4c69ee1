"""Webhook bodies are signed over their exact bytes and accepted by the official SDK's validator."""

from __future__ import annotations

import json
import time

import pusher

from tests.pusher_protocol.helpers import APP_ID, KEY, SECRET
from waxos.pusher_protocol import build_webhook, webhooks


def test_official_sdk_validates_our_webhook() -> None:
    events = [
        webhooks.channel_occupied("a"),
        webhooks.member_added("presence-a", "1"),
        webhooks.member_removed("presence-a", "1"),
        webhooks.channel_vacated("a"),
        webhooks.cache_miss("cache-a"),
        webhooks.client_event("private-a", "client-x", {"k": "é"}, "1.2", None),
    ]
    now_ms = int(time.time() * 1000)
    request = build_webhook(events, key=KEY, secret=SECRET, time_ms=now_ms)
    client = pusher.Pusher(app_id=APP_ID, key=KEY, secret=SECRET)
    validated = client.validate_webhook(
        request.headers["X-Pusher-Key"], request.headers["X-Pusher-Signature"], request.body
    )
    assert validated == {"time_ms": now_ms, "events": events}
    assert request.headers["Content-Type"] == "application/json"
    assert events[-1]["data"] == '{"k":"é"}'
    assert client.validate_webhook(KEY, "0" * 64, request.body) is None


def test_client_event_webhook_keeps_string_data_and_adds_presence_user() -> None:
    event = webhooks.client_event("presence-a", "client-x", "already text", "1.2", "u1")
    assert event == {
        "name": "client_event",
        "channel": "presence-a",
        "event": "client-x",
        "data": "already text",
        "socket_id": "1.2",
        "user_id": "u1",
    }
    body = json.loads(build_webhook([event], key=KEY, secret=SECRET, time_ms=5).body)
    assert body == {"time_ms": 5, "events": [event]}
