"""Frame parsing and the exact shapes of server messages (double-encoded `data`)."""

from __future__ import annotations

import json

import pytest

from waxos.pusher_protocol import messages
from waxos.pusher_protocol.errors import FrameError


def test_parse_object_and_string_data() -> None:
    parsed = messages.parse_client_frame('{"event":"pusher:subscribe","data":{"channel":"a"}}')
    assert messages.data_object(parsed) == {"channel": "a"}
    old = messages.parse_client_frame('{"event":"pusher:subscribe","data":"{\\"channel\\":\\"a\\"}"}')
    assert messages.data_object(old) == {"channel": "a"}
    bare = messages.parse_client_frame('{"event":"pusher:ping"}')
    assert messages.data_object(bare) == {}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("nope", "Received invalid JSON"),
        ("[1]", "Received invalid JSON"),
        ('{"data":{}}', "Received message without an event name"),
        ('{"event":""}', "Received message without an event name"),
        ('{"event":"x","channel":5}', "Received message with an invalid channel"),
        ("[" * 3000, "Received invalid JSON"),
        ('{"event":"client-x","data":' + "[" * 990 + "]" * 990 + "}", "Received invalid JSON"),
    ],
)
def test_bad_frames(text: str, reason: str) -> None:
    with pytest.raises(FrameError, match=reason):
        messages.parse_client_frame(text)


def test_nesting_is_limited_without_recursion() -> None:
    depth = messages.MAX_JSON_DEPTH
    assert messages.loads("[" * depth + "]" * depth) is not None
    assert messages.loads('{"a":' * (depth - 1) + "{}" + "}" * (depth - 1)) is not None
    assert messages.loads("1") == 1
    for text in ["[" * (depth + 1) + "]" * (depth + 1), "[" * 5000, b"[" * 5000]:
        with pytest.raises(ValueError, match="nested too deeply"):
            messages.loads(text)


@pytest.mark.parametrize(
    "text",
    [
        '"\\ud800"',
        '"\\uDFFF"',
        '{"\\udc00": 1}',
        '["ok", {"a": "x\\ud83d"}]',
        b'{"a": "\\ud800"}',
        '"\\ud800"'.encode("utf-16"),
    ],
)
def test_an_unpaired_surrogate_is_invalid_json(text: str | bytes) -> None:
    with pytest.raises(ValueError, match="unpaired surrogate"):
        messages.loads(text)


def test_paired_surrogates_and_escaped_backslashes_pass() -> None:
    assert messages.loads('"\\ud83d\\ude00"') == "\U0001f600"
    assert messages.loads('"\\\\ud800"') == "\\ud800"  # a backslash, then the letters


@pytest.mark.parametrize("data", ['"not json', "[1]", 5, "[" * 3000])
def test_bad_pusher_data(data: object) -> None:
    message = messages.ClientMessage("pusher:subscribe", None, data)
    with pytest.raises(FrameError, match="Invalid data for pusher:subscribe"):
        messages.data_object(message)


@pytest.mark.parametrize(
    ("text", "member"),
    [
        ('{"user_id":10,"user_info":{"n":1}}', messages.PresenceMember("10", {"n": 1})),
        ('{"user_id":"a"}', messages.PresenceMember("a", None)),
        ('{"user_id":""}', None),
        ('{"user_id":true}', None),
        ('{"user_info":{}}', None),
        ("[]", None),
        ("{", None),
        ('{"user_id":"a","user_info":' + "[" * 3000 + "}", None),
    ],
)
def test_channel_data(text: str, member: messages.PresenceMember | None) -> None:
    assert messages.parse_channel_data(text) == member


def test_server_messages_double_encode_data() -> None:
    established = json.loads(messages.connection_established("1.2", 120))
    assert established["event"] == "pusher:connection_established"
    assert json.loads(established["data"]) == {"socket_id": "1.2", "activity_timeout": 120}
    assert json.loads(messages.pong()) == {"event": "pusher:pong", "data": "{}"}
    assert json.loads(messages.ping()) == {"event": "pusher:ping", "data": "{}"}
    removed = json.loads(messages.member_removed("presence-a", "3"))
    assert json.loads(removed["data"]) == {"user_id": "3"}
    assert json.loads(messages.channel_event("e", "c", '{"a":1}')) == {
        "event": "e",
        "channel": "c",
        "data": '{"a":1}',
    }
    assert json.loads(messages.signin_success('{"id":"1"}')) == {
        "event": "pusher:signin_success",
        "data": {"user_data": '{"id":"1"}'},
    }
    assert json.loads(messages.cache_miss("cache-a")) == {
        "event": "pusher:cache_miss",
        "channel": "cache-a",
    }
