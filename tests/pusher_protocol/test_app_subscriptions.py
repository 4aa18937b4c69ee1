"""Subscribing to every channel kind, auth failures, presence with distinct users, cache channels."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.pusher_protocol.helpers import KEY, SECRET, Harness, error, succeeded
from waxos.pusher_protocol.signing import channel_string_to_sign, hmac_hex


def sub_error(channel: str, reason: str, status: int) -> dict[str, Any]:
    data = {"type": "AuthError", "error": reason, "status": status}
    return {"event": "pusher:subscription_error", "channel": channel, "data": data}


def presence_data(frames: list[dict[str, Any]]) -> dict[str, Any]:
    [frame] = frames
    assert frame["event"] == "pusher_internal:subscription_succeeded"
    return json.loads(frame["data"])["presence"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("channel", ["public", "private-a", "private-encrypted-a", "presence-never-mind"][:3])
def test_subscribe_succeeds_with_empty_object_data(channel: str) -> None:
    h = Harness()
    s = h.connect()
    assert h.subscribe(s, channel) == [succeeded(channel)]
    assert h.app.hub.subscribers(channel) == [s]
    assert h.app.take_webhooks() == [{"name": "channel_occupied", "channel": channel}]


def test_public_channel_ignores_auth() -> None:
    h = Harness()
    s = h.connect()
    assert h.subscribe(s, "public", auth="rubbish") == [succeeded("public")]


def test_bad_signature_gets_error_and_subscription_error_and_keeps_the_connection() -> None:
    h = Harness()
    s = h.connect()
    frames = h.subscribe(s, "private-a", auth=f"{KEY}:deadbeef")
    reason = f"Invalid signature: Expected HMAC SHA256 hex digest of {s}:private-a, but got deadbeef"
    assert frames == [error(reason), sub_error("private-a", reason, 401)]
    assert h.app.hub.subscribers("private-a") == []
    assert s in h.app.connections
    assert h.subscribe(s, "private-a") == [succeeded("private-a")]  # a later good auth works


@pytest.mark.parametrize(
    ("auth", "reason"),
    [
        ("", "Auth value for subscription to private-a is invalid: should be of format 'key:signature'"),
        ("a:b:c", "Auth value for subscription to private-a is invalid: should be of format 'key:signature'"),
        ("other-key:abc", "Invalid key in subscription auth data: 'other-key'"),
    ],
)
def test_malformed_auth(auth: str, reason: str) -> None:
    h = Harness()
    s = h.connect()
    h.send(s, {"event": "pusher:subscribe", "data": {"channel": "private-a", "auth": auth}})
    assert h.take(s) == [error(reason), sub_error("private-a", reason, 401)]


def test_missing_auth_on_private() -> None:
    h = Harness()
    s = h.connect()
    h.send(s, {"event": "pusher:subscribe", "data": {"channel": "private-a"}})
    assert h.take(s)[0]["data"]["message"].startswith("Auth value for subscription")


def test_auth_for_another_socket_is_refused() -> None:
    h = Harness()
    s1, s2 = h.connect(), h.connect()
    auth = f"{KEY}:{hmac_hex(SECRET, channel_string_to_sign(s1, 'private-a'))}"
    assert h.subscribe(s2, "private-a", auth=auth)[0]["event"] == "pusher:error"


@pytest.mark.parametrize("channel", ["bad name", "#secret", "x" * 201, 5])
def test_invalid_channel_names(channel: object) -> None:
    h = Harness()
    s = h.connect()
    h.send(s, {"event": "pusher:subscribe", "data": {"channel": channel, "auth": ""}})
    shown = "x" * 200 + "…" if channel == "x" * 201 else channel if isinstance(channel, str) else ""
    reason = f"Invalid channel name '{shown}'"
    assert h.take(s) == [error(reason), sub_error(shown, reason, 400)]


def test_existing_subscription_is_an_error() -> None:
    h = Harness()
    s = h.connect()
    h.subscribe(s, "a")
    assert h.subscribe(s, "a") == [error("Existing subscription to channel a")]


def test_unsubscribe_is_silent_and_vacates() -> None:
    h = Harness()
    s = h.connect()
    h.subscribe(s, "a")
    h.app.take_webhooks()
    h.send(s, {"event": "pusher:unsubscribe", "data": {"channel": "a"}})
    h.send(s, {"event": "pusher:unsubscribe", "data": {"channel": "never"}})
    assert h.take(s) == []
    assert h.app.take_webhooks() == [{"name": "channel_vacated", "channel": "a"}]
    assert h.app.hub.occupied_channels() == []


def test_presence_distinct_users() -> None:
    h = Harness()
    a1, a2, b = h.connect(), h.connect(), h.connect()
    alice = {"user_id": "alice", "user_info": {"name": "A"}}
    first = presence_data(h.subscribe(a1, "presence-room", user=alice))
    assert first == {"ids": ["alice"], "hash": {"alice": {"name": "A"}}, "count": 1}
    assert h.app.take_webhooks() == [
        {"name": "channel_occupied", "channel": "presence-room"},
        {"name": "member_added", "channel": "presence-room", "user_id": "alice"},
    ]
    # Alice's second tab: no member_added to anyone, still one user.
    assert presence_data(h.subscribe(a2, "presence-room", user=alice))["count"] == 1
    assert h.take(a1) == [] and h.app.take_webhooks() == []
    # Bob joins with a numeric id: others learn it as a string.
    snapshot = presence_data(h.subscribe(b, "presence-room", user={"user_id": 7}))
    assert snapshot == {"ids": ["alice", "7"], "hash": {"alice": {"name": "A"}, "7": None}, "count": 2}
    added = {
        "event": "pusher_internal:member_added",
        "channel": "presence-room",
        "data": json.dumps({"user_id": "7", "user_info": None}, separators=(",", ":")),
    }
    assert h.take(a1) == [added] and h.take(a2) == [added]
    assert h.app.hub.user_count("presence-room") == 2
    assert h.app.hub.subscription_count("presence-room") == 3
    h.app.take_webhooks()
    # Alice closes one tab: nothing; the last one: member_removed to Bob.
    h.app.disconnect(a1, h.now)
    h.pump()
    assert h.take(b) == [] and h.app.take_webhooks() == []
    h.send(a2, {"event": "pusher:unsubscribe", "data": {"channel": "presence-room"}})
    removed = {
        "event": "pusher_internal:member_removed",
        "channel": "presence-room",
        "data": '{"user_id":"alice"}',
    }
    assert h.take(b) == [removed]
    assert h.app.take_webhooks() == [
        {"name": "member_removed", "channel": "presence-room", "user_id": "alice"}
    ]
    h.app.disconnect(b, h.now)
    assert h.app.take_webhooks() == [
        {"name": "member_removed", "channel": "presence-room", "user_id": "7"},
        {"name": "channel_vacated", "channel": "presence-room"},
    ]


@pytest.mark.parametrize(
    ("channel_data", "reason", "status"),
    [
        (None, "Presence subscription requires channel_data", 400),
        ('{"user_info":{}}', "Invalid channel_data: user_id is required", 400),
        (5, "channel_data must be a string", 400),
    ],
)
def test_presence_channel_data_problems(channel_data: object, reason: str, status: int) -> None:
    h = Harness()
    s = h.connect()
    signed = channel_data if isinstance(channel_data, str) else None
    auth = f"{KEY}:{hmac_hex(SECRET, channel_string_to_sign(s, 'presence-a', signed))}"
    data: dict[str, object] = {"channel": "presence-a", "auth": auth}
    if channel_data is not None:
        data["channel_data"] = channel_data
    h.send(s, {"event": "pusher:subscribe", "data": data})
    assert h.take(s) == [error(reason), sub_error("presence-a", reason, status)]


def test_presence_member_limit_counts_users_not_sockets() -> None:
    h = Harness(max_presence_members=1)
    a1, a2, b = h.connect(), h.connect(), h.connect()
    h.subscribe(a1, "presence-a", user={"user_id": "a"})
    assert presence_data(h.subscribe(a2, "presence-a", user={"user_id": "a"}))["count"] == 1
    reason = "Presence channel presence-a is full (1 members)"
    assert h.subscribe(b, "presence-a", user={"user_id": "b"}) == [
        error(reason),
        sub_error("presence-a", reason, 403),
    ]


def test_signed_in_connection_joins_presence_as_its_user() -> None:
    h = Harness()
    s = h.connect()
    h.signin(s, {"id": "u1", "user_info": {"n": 1}})
    auth = f"{KEY}:{hmac_hex(SECRET, channel_string_to_sign(s, 'presence-a'))}"
    snapshot = presence_data(h.subscribe(s, "presence-a", auth=auth))
    assert snapshot == {"ids": ["u1"], "hash": {"u1": {"n": 1}}, "count": 1}


def test_cache_channel_miss_then_replay() -> None:
    h = Harness()
    s1, s2, s3 = h.connect(), h.connect(), h.connect()
    assert h.subscribe(s1, "cache-a") == [
        succeeded("cache-a"),
        {"event": "pusher:cache_miss", "channel": "cache-a"},
    ]
    assert h.subscribe(s2, "private-cache-a")[-1]["event"] == "pusher:cache_miss"
    webhooks = h.app.take_webhooks()
    assert {"name": "cache_miss", "channel": "cache-a"} in webhooks
    # A second miss on the same channel is not reported again while it stays occupied...
    h.subscribe(s2, "cache-a")
    assert {"name": "cache_miss", "channel": "cache-a"} not in h.app.take_webhooks()
    # ...but its last subscriber leaving forgets the channel: the next miss is news again.
    for socket_id in (s1, s2):
        h.send(socket_id, {"event": "pusher:unsubscribe", "data": {"channel": "cache-a"}})
    h.subscribe(s1, "cache-a")
    assert {"name": "cache_miss", "channel": "cache-a"} in h.app.take_webhooks()
    h.app.publish("ev", ["cache-a"], '{"v":1}', None, h.now)
    h.pump()
    h.take(s1)
    event = {"event": "ev", "channel": "cache-a", "data": '{"v":1}'}
    assert h.subscribe(s3, "cache-a") == [succeeded("cache-a"), event]
    # Expired: a miss again, and reported again since the cache was filled in between.
    h.now += 1801
    h.send(s3, {"event": "pusher:unsubscribe", "data": {"channel": "cache-a"}})
    assert h.subscribe(s3, "cache-a")[-1]["event"] == "pusher:cache_miss"
    assert {"name": "cache_miss", "channel": "cache-a"} in h.app.take_webhooks()
