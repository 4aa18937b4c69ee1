"""Connecting, refusals with Pusher's close codes, bad frames, liveness through the app."""

from __future__ import annotations

import json

import pytest

from tests.pusher_protocol.helpers import KEY, Harness, error
from waxos.pusher_protocol import CloseCode


def test_connection_established_first_with_socket_id_and_activity_timeout() -> None:
    h = Harness()
    socket_id = h.connect(keep_handshake=True)
    [frame] = h.take(socket_id)
    assert frame["event"] == "pusher:connection_established"
    assert json.loads(frame["data"]) == {"socket_id": socket_id, "activity_timeout": 120}


def test_random_socket_ids_have_the_sdk_format() -> None:
    from tests.pusher_protocol.helpers import config
    from waxos.pusher_protocol import PusherApp
    from waxos.pusher_protocol.names import is_valid_socket_id

    app = PusherApp(config())
    ids = {app.connect(KEY, {"protocol": "7"}, 0.0) for _ in range(50)}
    assert len(ids) == 50 and all(is_valid_socket_id(i) for i in ids)


def test_socket_id_collisions_are_retried() -> None:
    from tests.pusher_protocol.helpers import config
    from waxos.pusher_protocol import PusherApp

    ids = iter(["1.1", "1.1", "2.2"])
    app = PusherApp(config(), new_socket_id=lambda: next(ids))
    assert app.connect(KEY, {"protocol": "7"}, 0.0) == "1.1"
    assert app.connect(KEY, {"protocol": "7"}, 0.0) == "2.2"


@pytest.mark.parametrize(
    ("key", "query", "code"),
    [
        ("wrong-key", {"protocol": "7"}, CloseCode.APP_NOT_FOUND),
        (KEY, {}, CloseCode.NO_PROTOCOL),
        (KEY, {"protocol": ""}, CloseCode.NO_PROTOCOL),
        (KEY, {"protocol": "seven"}, CloseCode.INVALID_VERSION),
        (KEY, {"protocol": "6"}, CloseCode.UNSUPPORTED_PROTOCOL),
        # str.isdigit() accepts these; int() refuses the first and reads the second as 7.
        (KEY, {"protocol": "²"}, CloseCode.INVALID_VERSION),
        (KEY, {"protocol": "\u0667"}, CloseCode.INVALID_VERSION),  # ARABIC-INDIC DIGIT SEVEN
        (KEY, {"protocol": "7 "}, CloseCode.INVALID_VERSION),
        # More digits than int() converts by default.
        (KEY, {"protocol": "7" * 5_000}, CloseCode.UNSUPPORTED_PROTOCOL),
    ],
)
def test_refused_connections_get_an_error_then_a_close(key: str, query: dict[str, str], code: int) -> None:
    h = Harness()
    socket_id = h.app.connect(key, query, h.now)
    h.pump()
    [frame] = h.take(socket_id)
    assert frame["event"] == "pusher:error" and frame["data"]["code"] == code
    assert len(frame["data"]["message"]) < 300  # client input is repeated only in part
    assert h.closed[socket_id][0] == code
    assert socket_id not in h.app.connections


def test_the_protocol_may_carry_leading_zeros() -> None:
    h = Harness()
    socket_id = h.app.connect(KEY, {"protocol": "007"}, h.now)
    assert socket_id in h.app.connections


def test_unknown_path_is_4005() -> None:
    h = Harness()
    socket_id = h.app.refuse(CloseCode.PATH_NOT_FOUND, "Path not found", h.now)
    h.pump()
    assert h.take(socket_id) == [error("Path not found", 4005)]
    assert h.closed[socket_id] == (4005, "Path not found")


def test_ping_pong() -> None:
    h = Harness()
    s = h.connect()
    h.send(s, {"event": "pusher:ping", "data": {}})
    assert h.take(s) == [{"event": "pusher:pong", "data": "{}"}]
    h.send(s, {"event": "pusher:pong", "data": {}})
    assert h.take(s) == []


@pytest.mark.parametrize(
    ("frame", "reply"),
    [
        ("{not json", error("Received invalid JSON")),
        ("[" * 3000, error("Received invalid JSON")),
        (
            '{"event":"pusher:subscribe","data":"' + "[" * 3000 + '"}',
            error("Invalid data for pusher:subscribe"),
        ),
        ({"event": "my-event", "data": "x"}, error("Unsupported event received on socket: my-event")),
        ({"event": "pusher:nope"}, error("Unsupported event received on socket: pusher:nope")),
        ({"event": "pusher:subscribe", "data": 3}, error("Invalid data for pusher:subscribe")),
    ],
)
def test_bad_frames_get_pusher_error_and_keep_the_connection(
    frame: dict[str, object] | str, reply: dict[str, object]
) -> None:
    h = Harness()
    s = h.connect()
    h.send(s, frame)
    assert h.take(s) == [reply]
    assert s in h.app.connections and not h.closed


def test_oversized_and_binary_frames_are_refused_and_the_connection_kept() -> None:
    h = Harness(max_frame_bytes=100)
    s = h.connect()
    h.send(s, json.dumps({"event": "pusher:ping", "data": "x" * 200}))
    assert h.take(s) == [error("Message exceeds the 100 bytes limit")]
    h.app.receive_binary(s, h.now)
    h.pump()
    assert h.take(s) == [error("Binary frames are not supported")]
    assert s in h.app.connections


def test_frames_for_unknown_sockets_are_ignored() -> None:
    h = Harness()
    h.app.receive_text("9.9", "{}", h.now)
    h.app.receive_binary("9.9", h.now)
    h.app.on_deadline("9.9", h.now)
    h.app.disconnect("9.9", h.now)
    h.app.close("9.9", 4200, "x", h.now)
    assert h.app.take_output() == [] and h.app.next_deadline("9.9") is None


def test_liveness_ping_then_4201() -> None:
    h = Harness()
    s = h.connect()
    deadline = h.app.next_deadline(s)
    assert deadline == h.now + 120
    h.app.on_deadline(s, h.now + 60)
    h.pump()
    assert h.take(s) == []
    h.app.on_deadline(s, h.now + 120)
    h.pump()
    assert h.take(s) == [{"event": "pusher:ping", "data": "{}"}]
    assert h.app.next_deadline(s) == h.now + 150
    h.app.on_deadline(s, h.now + 150)
    h.pump()
    assert h.closed[s] == (4201, "Pong reply not received")
    assert s not in h.app.connections


def test_pong_keeps_the_connection_alive() -> None:
    h = Harness()
    s = h.connect()
    h.app.on_deadline(s, h.now + 120)
    h.now += 125
    h.send(s, {"event": "pusher:pong", "data": {}})
    h.app.on_deadline(s, h.now + 30)
    h.pump()
    assert s in h.app.connections
