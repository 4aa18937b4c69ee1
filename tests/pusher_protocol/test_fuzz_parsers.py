"""Fuzz targets for the two parsers facing the network: WebSocket frames and HTTP API requests.

CI runs each with a fixed example budget (a few seconds); a longer hunt is the same command with a bigger
budget: `WAXOS_FUZZ_EXAMPLES=200000 scripts/test tests/pusher_protocol/test_fuzz_parsers.py`.
Hypothesis prints the failing input and the seed to replay it.

- Frames: bytes as a client's WebSocket text frame carries them (valid UTF-8, as the WebSocket layer
  guarantees, or not, which it refuses before us), with JSON escapes, surrogates, deep nesting and the
  Pusher envelope's fields mixed in. The parser raises nothing but `FrameError`; whatever it accepts
  re-encodes as UTF-8 JSON; and the whole core answers every frame without raising, with every frame it
  writes encodable.
- HTTP: raw query strings, paths and bodies. `parse_query` raises nothing but `HttpError(400)`, keeps no
  two keys that fold to one, and agrees with the standard library's parsing whenever it accepts; the
  whole API answers every request with a 4xx or a 200 JSON object, never an exception.
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any
from urllib.parse import parse_qsl, quote

from hypothesis import HealthCheck, given, settings, strategies as st

from tests.pusher_protocol.helpers import APP_ID, KEY, SECRET, Harness
from waxos.pusher_protocol import HttpRequest, handle_http, messages
from waxos.pusher_protocol.errors import FrameError, HttpError
from waxos.pusher_protocol.http_auth import parse_query
from waxos.pusher_protocol.signing import body_md5, sign_request

BUDGET = int(os.environ.get("WAXOS_FUZZ_EXAMPLES", "400"))
FUZZ = settings(
    max_examples=BUDGET,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Pieces clients and attackers put in frames: escapes of every kind, surrogates paired and not.
_PIECES = st.sampled_from(
    [
        "\\ud800",
        "\\udfff",
        "\\ud83d\\ude00",
        "\\u0000",
        "\\\\",
        '\\"',
        "²",
        "\u0000",
        "\ufeff",
        "pusher:subscribe",
        "client-x",
        "private-a",
        "presence-a",
        "#server-to-user-1",
        '{"',
        "[",
        "]",
        "}",
        ":",
        ",",
        "1e999",
        "-0",
        "null",
        "true",
    ]
)
_ENVELOPE_KEYS = st.sampled_from(["event", "channel", "data", "user_id", "auth", "channel_data", "EVENT"])
_json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
_json_values = st.recursive(
    _json_scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(_ENVELOPE_KEYS | st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
frame_texts = st.one_of(
    st.text(max_size=300),
    st.lists(_PIECES, max_size=30).map("".join),
    st.builds(lambda v: json.dumps(v, ensure_ascii=False), _json_values),
    st.builds(
        lambda event, channel, data: '{"event":' + event + ',"channel":' + channel + ',"data":' + data + "}",
        st.lists(_PIECES, max_size=4).map(lambda p: '"' + "".join(p) + '"'),
        st.lists(_PIECES, max_size=4).map(lambda p: '"' + "".join(p) + '"'),
        st.lists(_PIECES, max_size=8).map("".join) | st.builds(json.dumps, _json_values),
    ),
)


@FUZZ
@given(frame_texts)
def test_the_frame_parser_raises_only_frame_errors_and_accepts_only_encodable_frames(text: str) -> None:
    try:
        message = messages.parse_client_frame(text)
    except FrameError:
        return
    assert isinstance(message.event, str) and message.event
    assert message.channel is None or isinstance(message.channel, str)
    # Whatever was accepted can be written to another socket.
    messages.dumps({"event": message.event, "channel": message.channel, "data": message.data}).encode()
    with contextlib.suppress(FrameError):
        messages.data_object(message)
    if isinstance(message.data, str):
        member = messages.parse_channel_data(message.data)
        assert member is None or isinstance(member.user_id, str)


@FUZZ
@given(st.binary(max_size=300))
def test_frames_from_raw_bytes_are_refused_or_answered(raw: bytes) -> None:
    # The WebSocket layer refuses text frames that are not UTF-8 (close 1007) before the core sees them.
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return
    h = Harness()
    socket_id = h.connect()
    h.subscribe(socket_id, "private-a")
    h.app.receive_text(socket_id, text, h.now)
    h.pump()  # every frame written must encode as UTF-8 (checked by the harness)
    assert socket_id in h.app.connections


@settings(FUZZ, max_examples=max(25, BUDGET // 4))  # each example is a whole session
@given(st.lists(st.tuples(st.integers(0, 2), frame_texts), max_size=12))
def test_any_sequence_of_frames_leaves_the_core_answering(script: list[tuple[int, str]]) -> None:
    h = Harness(enable_subscription_count=True)
    sockets = [h.connect() for _ in range(3)]
    for index, text in script:
        h.app.receive_text(sockets[index], text, h.now)
        h.now += 0.5
        h.app.send_due_counts(h.now)
        h.pump()
    for socket_id in sockets:
        h.app.disconnect(socket_id, h.now)
    h.pump()
    assert h.app.hub.occupied_channels() == [] and h.app.next_count_due() is None


# Query strings as an attacker writes them: keys in any case, repeated, percent-encoded or not.
_KEYS = st.sampled_from(
    [
        *("auth_key", "AUTH_KEY", "Auth_Key", "auth_timestamp", "AUTH_TIMESTAMP", "auth_signature"),
        *("body_md5", "BODY_MD5", "auth_version", "info", "filter_by_prefix", "auth%5Fkey", "", "=", "&"),
        "auth_\u017fignature",  # LATIN SMALL LETTER LONG S, which folds to s
    ]
)
_VALUES = st.sampled_from(["", "1", "1.0", "²", "%C2%B2", "%ED%A0%80", "a+b", "a%20b", "%", "%zz", "x" * 50])
query_strings = st.one_of(
    st.text(max_size=200),
    st.lists(st.tuples(_KEYS, _VALUES), max_size=8).map(lambda pairs: "&".join(f"{k}={v}" for k, v in pairs)),
    st.lists(st.sampled_from(["&", "=", ";", "a", "A", "%", "+", "%41", "auth_key"]), max_size=20).map(
        "".join
    ),
)


@FUZZ
@given(query_strings)
def test_the_query_parser_refuses_ambiguity_and_otherwise_agrees_with_the_standard_library(
    query: str,
) -> None:
    try:
        params = parse_query(query)
    except HttpError as exc:
        assert exc.status == 400 and exc.message.startswith("Duplicate query parameter")
        folded = [key.casefold() for key, _ in parse_qsl(query, keep_blank_values=True)]
        assert len(folded) != len(set(folded))
        return
    assert all(key == key.lower() for key in params)
    assert params == {key.lower(): value for key, value in parse_qsl(query, keep_blank_values=True)}
    assert len({key.casefold() for key in params}) == len(params)


_PATHS = st.sampled_from(
    [
        f"/apps/{APP_ID}/events",
        f"/apps/{APP_ID}/batch_events",
        f"/apps/{APP_ID}/channels",
        f"/apps/{APP_ID}/channels/presence-a",
        f"/apps/{APP_ID}/channels/presence-a/users",
        f"/apps/{APP_ID}/users/u1/terminate_connections",
        "/users/u1/terminate_connections",
        f"/apps/{APP_ID}/channels/a%2Fusers",
        f"/apps/{APP_ID}%2Fevents",
        "/apps/%C2%B2/events",
    ]
)
_BODIES = st.one_of(
    st.binary(max_size=200),
    st.builds(lambda v: json.dumps(v).encode(), _json_values),
    st.builds(
        lambda name, channels, data: json.dumps({"name": name, "channels": channels, "data": data}).encode(),
        st.text(max_size=20),
        st.lists(st.text(max_size=10), max_size=3),
        st.text(max_size=20),
    ),
    st.lists(_PIECES, max_size=20).map(lambda p: "".join(p).encode("utf-8", "surrogatepass")),
)


@FUZZ
@given(
    st.sampled_from(["GET", "POST", "PUT", "DELETE", "get", ""]),
    _PATHS | st.text(max_size=60).map(lambda t: "/" + quote(t, safe="/%")),
    query_strings,
    _BODIES,
    st.booleans(),
)
def test_every_http_request_gets_a_4xx_or_a_json_200(
    method: str, path: str, extra_query: str, body: bytes, sign: bool
) -> None:
    h = Harness()
    query = extra_query
    if sign:
        params: dict[str, Any] = {
            "auth_key": KEY,
            "auth_timestamp": f"{h.now:.0f}",
            "auth_version": "1.0",
            "body_md5": body_md5(body),
        }
        params["auth_signature"] = sign_request(SECRET, method, path, params)
        signed = "&".join(f"{k}={v}" for k, v in params.items())
        query = f"{signed}&{extra_query}" if extra_query else signed
    response = handle_http(h.app, HttpRequest(method, path, query, body), h.now)
    h.pump()
    assert response.status in {200, 400, 401, 404, 405, 413}, response
    if response.status == 200:
        assert isinstance(json.loads(response.body), dict)
    else:
        assert response.body.endswith(b"\n") and len(response.body) < 2_000
