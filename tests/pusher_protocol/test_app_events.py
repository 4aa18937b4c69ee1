"""Client events, sign-in, server-to-user delivery, publishing and terminating connections."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.pusher_protocol.helpers import KEY, SECRET, Harness, error
from waxos.pusher_protocol.signing import sign_auth, user_string_to_sign

NOT_ENABLED = "To send client events, you must enable this feature in the Settings page of your dashboard."


def client_event(channel: str, data: Any = None, event: str = "client-typing") -> dict[str, Any]:
    return {"event": event, "channel": channel, "data": data if data is not None else {"x": 1}}


def test_client_event_goes_to_others_never_the_sender() -> None:
    h = Harness()
    a, b, c = h.connect(), h.connect(), h.connect()
    for s in (a, b, c):
        h.subscribe(s, "private-chat")
    h.app.take_webhooks()
    h.send(a, client_event("private-chat"))
    expected = {"event": "client-typing", "channel": "private-chat", "data": {"x": 1}}
    assert h.take(a) == [] and h.take(b) == [expected] and h.take(c) == [expected]
    assert h.app.take_webhooks() == [
        {
            "name": "client_event",
            "channel": "private-chat",
            "event": "client-typing",
            "data": '{"x":1}',
            "socket_id": a,
        }
    ]


def test_presence_client_event_carries_the_sender_user_id() -> None:
    h = Harness()
    a, b = h.connect(), h.connect()
    h.subscribe(a, "presence-p", user={"user_id": "u-a"})
    h.subscribe(b, "presence-p", user={"user_id": "u-b"})
    h.take(a)
    h.app.take_webhooks()
    h.send(a, client_event("presence-p", data="text"))
    assert h.take(b) == [
        {"event": "client-typing", "channel": "presence-p", "data": "text", "user_id": "u-a"}
    ]
    [hook] = h.app.take_webhooks()
    assert hook["user_id"] == "u-a" and hook["data"] == "text"


@pytest.mark.parametrize(
    ("setup", "frame", "reason"),
    [
        ("a", client_event("a"), "Client event rejected - only supported on private and presence channels"),
        (
            None,
            client_event("private-x"),
            "Cannot broadcast client event (connection not subscribed to channel private-x)",
        ),
        (
            None,
            {"event": "client-x"},
            "Cannot broadcast client event (connection not subscribed to channel None)",
        ),
        (
            "private-x",
            client_event("private-x", event="client-" + "e" * 200),
            "Client event rejected - event name is too long",
        ),
        (
            "private-x",
            client_event("private-x", data="x" * 10_300),
            "Client event rejected - data exceeds 10240 bytes",
        ),
    ],
)
def test_client_event_refusals_keep_the_connection(
    setup: str | None, frame: dict[str, Any], reason: str
) -> None:
    h = Harness(max_frame_bytes=100_000)
    s = h.connect()
    if setup:
        h.subscribe(s, setup)
    h.send(s, frame)
    assert h.take(s) == [error(reason)]
    assert s in h.app.connections


def test_deeply_nested_client_event_is_invalid_json_and_nothing_is_relayed() -> None:
    # Nested just short of what json.loads refuses: parsing succeeds, re-encoding for relay would not.
    h = Harness(max_frame_bytes=100_000)
    a, b = h.connect(), h.connect()
    h.subscribe(a, "private-x")
    h.subscribe(b, "private-x")
    h.take(a), h.take(b), h.app.take_webhooks()
    frame = '{"event":"client-x","channel":"private-x","data":' + "[" * 990 + "]" * 990 + "}"
    h.send(a, frame)
    assert h.take(a) == [error("Received invalid JSON")] and h.take(b) == []
    assert a in h.app.connections and h.app.take_webhooks() == []


@pytest.mark.parametrize(
    "frame",
    [
        '{"event":"client-x","channel":"private-x","data":{"text":"\\ud800"}}',
        '{"event":"client-\\ud800","channel":"private-x","data":{}}',
        '{"event":"\\udfff"}',
        '{"event":"client-x","channel":"private-\\ud800","data":{}}',
        '{"event":"pusher:subscribe","data":{"channel":"\\ud800"}}',
    ],
)
def test_an_unpaired_surrogate_is_invalid_json_and_nothing_is_relayed(frame: str) -> None:
    # json decodes "\ud800" into a string no UTF-8 encoder accepts: relayed, it broke the writer.
    h = Harness()
    a, b = h.connect(), h.connect()
    h.subscribe(a, "private-x")
    h.subscribe(b, "private-x")
    h.take(a), h.take(b), h.app.take_webhooks()
    h.send(a, frame)
    assert h.take(a) == [error("Received invalid JSON")] and h.take(b) == []
    assert a in h.app.connections and h.app.take_webhooks() == []


def test_an_unpaired_surrogate_inside_signed_user_data_is_refused() -> None:
    h = Harness()
    a = h.connect()
    reply = h.signin(a, {"id": "u1", "user_info": {"name": "\ud800"}})
    assert reply == [error("Invalid signin: user_data is not JSON")]
    assert h.app.connections[a].user is None


def test_client_events_disabled() -> None:
    h = Harness(enable_client_events=False)
    a, b = h.connect(), h.connect()
    h.subscribe(a, "private-x")
    h.subscribe(b, "private-x")
    h.send(a, client_event("private-x"))
    assert h.take(a) == [error(NOT_ENABLED)] and h.take(b) == []


def test_client_event_rate_limit_4301_then_recovers() -> None:
    h = Harness()
    a, b = h.connect(), h.connect()
    h.subscribe(a, "private-x")
    h.subscribe(b, "private-x")
    for _ in range(11):
        h.send(a, client_event("private-x"))
    assert len(h.take(b)) == 10
    assert h.take(a) == [error("Client event rejected due to rate limit", 4301)]
    h.now += 1.0
    h.send(a, client_event("private-x"))
    assert len(h.take(b)) == 1 and a in h.app.connections


def test_rate_limit_can_be_switched_off() -> None:
    h = Harness(client_event_rate_limit=0)
    a, b = h.connect(), h.connect()
    h.subscribe(a, "private-x")
    h.subscribe(b, "private-x")
    for _ in range(50):
        h.send(a, client_event("private-x"))
    assert len(h.take(b)) == 50 and h.take(a) == []


def test_signin_and_server_to_user() -> None:
    h = Harness()
    s1, s2, other = h.connect(), h.connect(), h.connect()
    user_data = {"id": "u1", "user_info": {"name": "U"}}
    assert h.signin(s1, user_data) == [
        {"event": "pusher:signin_success", "data": {"user_data": json.dumps(user_data)}}
    ]
    h.signin(s2, user_data)
    h.signin(s1, user_data)  # signing in again as the same user is fine
    assert h.subscribe(s1, "#server-to-user-u1")[0]["event"] == "pusher_internal:subscription_succeeded"
    refused = h.subscribe(other, "#server-to-user-u1")
    assert refused[0] == error("Connection is not signed in as user u1")
    h.app.publish("note", ["#server-to-user-u1"], '{"a":1}', s2, h.now)
    h.pump()
    expected = {"event": "note", "channel": "#server-to-user-u1", "data": '{"a":1}'}
    assert h.take(s1) == [expected] and h.take(s2) == [] and h.take(other) == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"auth": "x", "user_data": 5}, "Invalid signin: user_data must be a string"),
        (
            {"auth": f"{KEY}:bad", "user_data": "{}"},
            "Invalid signature: Expected HMAC SHA256 hex digest of SID::user::{}, but got bad",
        ),
    ],
)
def test_bad_signin(data: dict[str, Any], reason: str) -> None:
    h = Harness()
    s = h.connect()
    h.send(s, {"event": "pusher:signin", "data": data})
    assert h.take(s) == [error(reason.replace("SID", s))]
    assert h.app.connections[s].user is None


@pytest.mark.parametrize(
    ("user_data", "reason"),
    [
        ("{", "Invalid signin: user_data is not JSON"),
        ('{"id":"u","user_info":' + "[" * 3000 + "}", "Invalid signin: user_data is not JSON"),
        ('{"id":5}', "Invalid signin: user_data must have a non-empty string id"),
        ('{"id":""}', "Invalid signin: user_data must have a non-empty string id"),
        ("[1]", "Invalid signin: user_data must have a non-empty string id"),
    ],
)
def test_signin_user_data_problems(user_data: str, reason: str) -> None:
    h = Harness()
    s = h.connect()
    auth = sign_auth(KEY, SECRET, user_string_to_sign(s, user_data))
    h.send(s, {"event": "pusher:signin", "data": {"auth": auth, "user_data": user_data}})
    assert h.take(s) == [error(reason)]


def test_signin_as_a_second_user_is_refused() -> None:
    h = Harness()
    s = h.connect()
    h.signin(s, {"id": "a"})
    assert h.signin(s, {"id": "b"}) == [error("Connection is already signed in as a different user")]


def test_publish_excludes_socket_and_reaches_each_channel_once() -> None:
    h = Harness()
    a, b = h.connect(), h.connect()
    h.subscribe(a, "c1")
    h.subscribe(a, "c2")
    h.subscribe(b, "c1")
    h.app.publish("e", ["c1", "c2", "empty"], "d", b, h.now)
    h.pump()
    assert [f["channel"] for f in h.take(a)] == ["c1", "c2"]
    assert h.take(b) == []


def test_terminate_closes_only_signed_in_connections_of_that_user() -> None:
    h = Harness()
    s1, s2, presence_only, other = h.connect(), h.connect(), h.connect(), h.connect()
    h.signin(s1, {"id": "u"})
    h.signin(s2, {"id": "u"})
    h.signin(other, {"id": "v"})
    h.subscribe(presence_only, "presence-p", user={"user_id": "u"})
    h.subscribe(s1, "presence-p", user={"user_id": "u"})
    assert h.app.terminate_user("u", h.now) == 2
    h.pump()
    reason = "You got disconnected by the app."
    assert h.take(s1) == [error(reason, 4009)]
    assert h.closed == {s1: (4009, reason), s2: (4009, reason)}
    assert presence_only in h.app.connections and other in h.app.connections
    assert h.app.hub.user_ids("presence-p") == ["u"]
    assert h.app.terminate_user("u", h.now) == 0
    assert h.app.terminate_user("nobody", h.now) == 0
