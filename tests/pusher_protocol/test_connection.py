"""Liveness and the client-event budget of one connection, with the clock passed in."""

from __future__ import annotations

from waxos.pusher_protocol.connection import Connection, Liveness


def make(limit: int = 10) -> Connection:
    return Connection("1.1", 100.0, activity_timeout=120, pong_timeout=30, client_event_limit=limit)


def test_ping_after_silence_then_close_without_pong() -> None:
    conn = make()
    assert conn.next_deadline() == 220.0
    assert conn.on_deadline(219.9) is Liveness.NOTHING
    assert conn.on_deadline(220.0) is Liveness.PING
    assert conn.next_deadline() == 250.0
    assert conn.on_deadline(249.0) is Liveness.NOTHING
    assert conn.on_deadline(250.0) is Liveness.CLOSE


def test_any_frame_answers_the_ping() -> None:
    conn = make()
    assert conn.on_deadline(220.0) is Liveness.PING
    conn.touch(230.0)
    assert conn.next_deadline() == 350.0
    assert conn.on_deadline(251.0) is Liveness.NOTHING


def test_ten_client_events_per_sliding_second() -> None:
    conn = make()
    assert all(conn.allow_client_event(10.0 + i / 100) for i in range(10))
    assert not conn.allow_client_event(10.5)
    assert conn.allow_client_event(11.0)  # the first one left the window at 11.0


def test_zero_limit_means_unlimited() -> None:
    conn = make(limit=0)
    assert all(conn.allow_client_event(1.0) for _ in range(1000))
