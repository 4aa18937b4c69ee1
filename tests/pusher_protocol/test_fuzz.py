"""Property tests: no frame and no HTTP request makes the core raise or lose its invariants."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from hypothesis import HealthCheck, given, settings, strategies as st

from tests.pusher_protocol.helpers import APP_ID, KEY, SECRET, Harness
from waxos.pusher_protocol import HttpRequest, handle_http
from waxos.pusher_protocol.signing import body_md5, sign_request

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)
# Nesting around where json gives up (RecursionError) or parses but cannot re-encode, framed
# bare, as a frame's data, or as a JSON string inside data (old clients' double encoding).
depths = st.sampled_from([99, 100, 101, 500, 985, 990, 995, 1000, 3000])
deep_json = st.builds(
    lambda depth, pair, closed: pair[0] * depth + (pair[1] * depth if closed else ""),
    depths,
    st.sampled_from([("[", "]"), ('{"a":', "}")]),
    st.booleans(),
)
events = st.sampled_from(
    [
        "pusher:subscribe",
        "pusher:unsubscribe",
        "pusher:ping",
        "pusher:pong",
        "pusher:signin",
        "client-x",
        "other",
        "pusher_internal:member_added",
    ]
)
channels = st.sampled_from(
    ["a", "private-a", "presence-a", "private-encrypted-a", "cache-a", "#server-to-user-1", "bad name", ""]
)
# Text that may hold unpaired surrogates, which json.dumps escapes as \udXXX (Harness.pump checks that
# every frame the core writes still encodes as UTF-8).
surrogate_text = st.text(st.characters(categories=["Cs", "Ll", "So"]), max_size=6)
frames = st.one_of(
    st.text(max_size=200),
    st.builds(
        lambda e, c, d: json.dumps({"event": e, "channel": c, "data": d}),
        events | surrogate_text.map("client-".__add__),
        channels | surrogate_text,
        surrogate_text | st.dictionaries(surrogate_text, surrogate_text, max_size=2),
    ),
    deep_json,
    st.builds(
        lambda e, c, d: '{"event":' + json.dumps(e) + ',"channel":' + json.dumps(c) + ',"data":' + d + "}",
        events,
        channels,
        deep_json,
    ),
    st.builds(lambda e, d: json.dumps({"event": e, "data": d}), events, deep_json),
    st.builds(
        lambda e, c, d: json.dumps({"event": e, "channel": c, "data": d}),
        events,
        channels | st.none(),
        json_values,
    ),
    st.builds(
        lambda e, c, a, cd: json.dumps({"event": e, "data": {"channel": c, "auth": a, "channel_data": cd}}),
        events,
        channels,
        st.text(max_size=30),
        st.text(max_size=30) | st.none(),
    ),
)


def check_invariants(h: Harness) -> None:
    for socket_id, connection in h.app.connections.items():
        for name in connection.subscriptions:
            assert socket_id in h.app.hub.subscribers(name)
    for name in h.app.hub.occupied_channels():
        for socket_id in h.app.hub.subscribers(name):
            assert name in h.app.connections[socket_id].subscriptions


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, 2), frames), max_size=25))
def test_random_frames_never_raise_and_keep_the_registry_consistent(
    script: list[tuple[int, str]],
) -> None:
    h = Harness()
    sockets = [h.connect() for _ in range(3)]
    for index, text in script:
        h.app.receive_text(sockets[index], text, h.now)
        h.now += 0.01
        h.pump()
        check_invariants(h)
    for socket_id in sockets:
        h.app.disconnect(socket_id, h.now)
    assert h.app.hub.occupied_channels() == []


paths = st.sampled_from(
    [
        f"/apps/{APP_ID}/events",
        f"/apps/{APP_ID}/batch_events",
        f"/apps/{APP_ID}/channels",
        f"/apps/{APP_ID}/channels/presence-a",
        f"/apps/{APP_ID}/channels/a/users",
        f"/apps/{APP_ID}/users/u/terminate_connections",
        "/users/u/terminate_connections",
        "/apps/1/x",
    ]
) | st.text(max_size=40)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["GET", "POST", "PUT"]),
    paths,
    st.dictionaries(st.text(max_size=10), st.text(max_size=10), max_size=4),
    st.binary(max_size=200)
    | json_values.map(lambda v: json.dumps(v).encode())
    | deep_json.map(str.encode)
    | deep_json.map(lambda d: b'{"name":"e","data":"d","channels":' + d.encode() + b"}"),
    st.booleans(),
)
def test_random_http_requests_get_an_answer(
    method: str, path: str, params: dict[str, str], body: bytes, sign: bool
) -> None:
    h = Harness()
    query: dict[str, Any] = dict(params)
    if sign:
        query.update(auth_key=KEY, auth_timestamp=f"{h.now:.0f}", auth_version="1.0", body_md5=body_md5(body))
        query["auth_signature"] = sign_request(SECRET, method, path, query)
    response = handle_http(h.app, HttpRequest(method, path, urlencode(query), body), h.now)
    assert response.status in {200, 400, 401, 404, 405, 413}
    if response.status == 200:
        assert isinstance(json.loads(response.body), dict)
