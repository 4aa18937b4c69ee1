"""What one unauthenticated socket can make the server hold: bounded replies, capped subscriptions."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.pusher_protocol.helpers import KEY, Harness, error

FLOOD = "x!" * 8_000  # 16,000 characters: a frame just under the 16 KiB limit, and no valid name


@pytest.mark.parametrize(
    "frame",
    [
        {"event": "pusher:subscribe", "data": {"channel": FLOOD}},
        {"event": "pusher:subscribe", "data": {"channel": "private-a", "auth": f"{FLOOD}:00"}},
        {"event": "pusher:subscribe", "data": {"channel": "private-a", "auth": f"{KEY}:{FLOOD}"}},
        {"event": "pusher:subscribe", "data": {"channel": "presence-a", "auth": "", "channel_data": FLOOD}},
        {
            "event": "pusher:subscribe",
            "data": {"channel": "presence-a", "auth": f"{KEY}:0", "channel_data": FLOOD},
        },
        {"event": f"pusher:{FLOOD}"},
        {"event": "client-x", "channel": FLOOD, "data": {}},
        {"event": "pusher:signin", "data": {"auth": f"{KEY}:0", "user_data": FLOOD}},
    ],
    ids=[
        "bad-channel",
        "auth-key",
        "auth-signature",
        "auth-format",
        "channel-data",
        "unknown-event",
        "client-event-channel",
        "signin",
    ],
)
def test_an_error_repeats_client_input_only_in_part(frame: dict[str, Any]) -> None:
    # Answering a 16 KiB frame with three copies of it let four sockets that never read take the
    # server from 172 MiB to 985 MiB in seconds.
    h = Harness()
    s = h.connect()
    text = json.dumps(frame)
    assert len(text.encode()) <= 16_384
    h.send(s, text)
    replies = h.take(s)
    assert replies and replies[0]["event"] == "pusher:error"
    assert sum(len(json.dumps(reply)) for reply in replies) < 4_000
    assert s in h.app.connections


def test_subscriptions_per_connection_are_capped() -> None:
    h = Harness(max_subscriptions_per_connection=2)
    s = h.connect()
    h.subscribe(s, "a")
    h.subscribe(s, "private-b")
    reason = "Too many subscriptions on this connection (at most 2)"
    refused = h.subscribe(s, "c")
    assert refused == [
        error(reason),
        {
            "event": "pusher:subscription_error",
            "channel": "c",
            "data": {"type": "AuthError", "error": reason, "status": 429},
        },
    ]
    assert h.app.hub.subscribers("c") == []
    h.send(s, {"event": "pusher:unsubscribe", "data": {"channel": "a"}})
    assert h.subscribe(s, "c")[0]["event"] == "pusher_internal:subscription_succeeded"


def test_no_subscription_cap_when_switched_off() -> None:
    h = Harness(max_subscriptions_per_connection=0)
    s = h.connect()
    for i in range(1_100):
        h.subscribe(s, f"c{i}")
    assert len(h.app.connections[s].subscriptions) == 1_100


def test_a_channel_leaves_nothing_behind_when_its_last_subscriber_goes() -> None:
    h = Harness()
    sockets = [h.connect() for _ in range(3)]
    for i in range(200):
        for s in sockets:
            h.subscribe(s, f"cache-{i}")
            h.subscribe(s, f"presence-{i}", user={"user_id": s})
    for s in sockets:
        h.app.disconnect(s, h.now)
    assert h.app.connections == {}
    assert h.app.hub.occupied_channels() == []
    # The cache-miss de-duplication, the one per-channel record outside the hub, is gone too.
    s = h.connect()
    h.app.take_webhooks()
    h.subscribe(s, "cache-7")
    assert {"name": "cache_miss", "channel": "cache-7"} in h.app.take_webhooks()
