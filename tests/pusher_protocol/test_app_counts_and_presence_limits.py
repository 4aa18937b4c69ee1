"""Pusher's documented behaviour: subscription counting (throttled above 100) and presence limits."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.pusher_protocol.helpers import Harness, error
from waxos.pusher_protocol.counts import INTERVAL, THROTTLE_ABOVE
from waxos.pusher_protocol.limits import MAX_PRESENCE_USER_INFO_BYTES, MAX_USER_ID_LENGTH


def count(channel: str, n: int) -> dict[str, Any]:
    data = json.dumps({"subscription_count": n}, separators=(",", ":"))
    return {"event": "pusher_internal:subscription_count", "channel": channel, "data": data}


def counted(h: Harness, socket_id: str) -> list[int]:
    return [
        json.loads(f["data"])["subscription_count"]
        for f in h.take(socket_id)
        if "subscription_count" in f["event"]
    ]


@pytest.mark.parametrize("channel", ["room", "private-room", "private-encrypted-room", "cache-room"])
def test_subscribers_learn_the_count_on_every_subscribe_and_unsubscribe(channel: str) -> None:
    h = Harness(enable_subscription_count=True)
    a, b = h.connect(), h.connect()
    assert count(channel, 1) in h.subscribe(a, channel)
    assert count(channel, 2) in h.subscribe(b, channel)
    assert h.take(a) == [count(channel, 2)]
    assert [w for w in h.app.take_webhooks() if w["name"] == "subscription_count"] == [
        {"name": "subscription_count", "channel": channel, "subscription_count": 1},
        {"name": "subscription_count", "channel": channel, "subscription_count": 2},
    ]
    h.send(b, {"event": "pusher:unsubscribe", "data": {"channel": channel}})
    assert h.take(a) == [count(channel, 1)] and h.take(b) == []
    h.app.disconnect(a, h.now)
    h.pump()
    # The channel is empty: nobody to tell, and no webhook either (channel_vacated says it).
    assert [w["name"] for w in h.app.take_webhooks()] == ["subscription_count", "channel_vacated"]


def test_presence_and_server_to_user_channels_are_not_counted() -> None:
    h = Harness(enable_subscription_count=True)
    a, b = h.connect(), h.connect()
    h.signin(a, {"id": "u1"})
    h.subscribe(a, "#server-to-user-u1")
    h.subscribe(a, "presence-room", user={"user_id": "u1"})
    h.subscribe(b, "presence-room", user={"user_id": "u2"})
    assert counted(h, a) == [] and counted(h, b) == []
    assert all(w["name"] != "subscription_count" for w in h.app.take_webhooks())


def test_counting_is_off_unless_the_app_enables_it() -> None:
    h = Harness()
    a = h.connect()
    assert h.subscribe(a, "room") == [
        {"event": "pusher_internal:subscription_succeeded", "channel": "room", "data": "{}"}
    ]
    assert h.app.next_count_due() is None


def test_above_100_subscribers_a_count_goes_out_at_most_every_5_seconds_and_the_last_is_not_lost() -> None:
    h = Harness(enable_subscription_count=True)
    start = h.now
    sockets = [h.connect() for _ in range(THROTTLE_ABOVE + 3)]
    for s in sockets[: THROTTLE_ABOVE + 1]:
        h.subscribe(s, "big")
    watcher = sockets[0]
    # Told of every change up to 100; the 101st came within 5 s of the last count sent: held back.
    assert counted(h, watcher) == list(range(2, THROTTLE_ABOVE + 1))  # its own 1 came with its subscribe
    assert h.app.next_count_due() == start + INTERVAL
    h.now += 1
    h.subscribe(sockets[-2], "big")
    h.subscribe(sockets[-1], "big")
    h.now += 2
    h.app.send_due_counts(h.now)  # not yet due
    h.pump()
    assert counted(h, watcher) == []
    h.send(sockets[-1], {"event": "pusher:unsubscribe", "data": {"channel": "big"}})
    h.now = start + INTERVAL
    h.app.send_due_counts(h.now)
    h.pump()
    assert counted(h, watcher) == [THROTTLE_ABOVE + 2]  # the count as it is when due
    assert h.app.next_count_due() is None
    # Back to 100 or fewer: every change is told at once again.
    for s in sockets[1:4]:
        h.send(s, {"event": "pusher:unsubscribe", "data": {"channel": "big"}})
    assert counted(h, watcher) == [THROTTLE_ABOVE, THROTTLE_ABOVE - 1]


def test_a_held_back_count_of_a_channel_emptied_meanwhile_is_not_sent() -> None:
    h = Harness(enable_subscription_count=True)
    sockets = [h.connect() for _ in range(THROTTLE_ABOVE + 2)]
    for s in sockets:
        h.subscribe(s, "big")
    assert h.app.next_count_due() is not None
    for s in sockets:
        h.app.disconnect(s, h.now)
    h.pump()
    h.app.take_webhooks()
    assert h.app.next_count_due() is None
    h.now += INTERVAL
    h.app.send_due_counts(h.now)
    assert h.app.take_output() == [] and h.app.take_webhooks() == []


@pytest.mark.parametrize(
    ("user", "reason"),
    [
        (
            {"user_id": "u" * (MAX_USER_ID_LENGTH + 1)},
            f"Presence user_id is longer than {MAX_USER_ID_LENGTH} characters",
        ),
        (
            {"user_id": "u1", "user_info": {"bio": "x" * MAX_PRESENCE_USER_INFO_BYTES}},
            f"Presence user_info is larger than {MAX_PRESENCE_USER_INFO_BYTES} bytes",
        ),
    ],
    ids=["long-user-id", "large-user-info"],
)
def test_presence_members_beyond_pushers_limits_are_refused(user: dict[str, Any], reason: str) -> None:
    h = Harness()
    a = h.connect()
    refused = h.subscribe(a, "presence-room", user=user)
    assert refused[0] == error(reason)
    assert refused[1]["event"] == "pusher:subscription_error" and refused[1]["data"]["status"] == 400
    assert h.app.hub.user_count("presence-room") == 0
    # At the limits exactly, they are accepted.
    info = {"bio": "x" * (MAX_PRESENCE_USER_INFO_BYTES - len('{"bio":""}'))}
    assert (
        h.subscribe(a, "presence-room", user={"user_id": "u" * MAX_USER_ID_LENGTH, "user_info": info})[0][
            "event"
        ]
        == "pusher_internal:subscription_succeeded"
    )


def test_a_signed_in_user_joins_presence_within_the_same_limits() -> None:
    h = Harness()
    a = h.connect()
    h.signin(a, {"id": "u1", "user_info": {"bio": "x" * 2_000}})
    refused = h.subscribe(a, "presence-room")
    assert refused[0] == error(f"Presence user_info is larger than {MAX_PRESENCE_USER_INFO_BYTES} bytes")
