"""What is checked is exactly what was signed: mutations of signed HTTP API requests.

A request's meaning is its method, its decoded path, the multiset of its decoded query parameters with
keys case-folded (Pusher signs lower-cased keys) and its body. Every mutation that changes the meaning
must be refused and deliver nothing; every one that keeps it (key case, order, percent-encoding, `+` for
a space) must still be served, so the property cannot pass by refusing everything.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from urllib.parse import parse_qsl, quote, unquote

from hypothesis import given, settings, strategies as st

from tests.pusher_protocol.helpers import APP_ID, KEY, SECRET, Harness
from waxos.pusher_protocol import HttpRequest, HttpResponse, handle_http
from waxos.pusher_protocol.signing import body_md5, sign_request

CHANNEL = "presence-room"


@dataclass(frozen=True)
class Request:
    """A request as sent: `pairs` are the raw (percent-encoded) query keys and values, in order."""

    method: str
    path: str
    pairs: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def query(self) -> str:
        return "&".join(f"{key}={value}" for key, value in self.pairs)

    def meaning(self) -> tuple[object, ...]:
        params = Counter(
            (key.casefold(), value) for key, value in parse_qsl(self.query, keep_blank_values=True)
        )
        return (self.method, unquote(self.path), params, self.body)


def _events_body(name: str = "message.new", data: str = '{"id":1}') -> bytes:
    return json.dumps({"name": name, "channels": [CHANNEL], "data": data}).encode()


# (method, path, extra signed parameters, body): one of each kind the official SDKs send, some with a
# space in a value so that `+` and `%20` both appear.
BASES: list[tuple[str, str, dict[str, str], bytes]] = [
    ("POST", f"/apps/{APP_ID}/events", {}, _events_body()),
    ("POST", f"/apps/{APP_ID}/events", {"note": "a b"}, _events_body("chat.assigned")),
    (
        "POST",
        f"/apps/{APP_ID}/batch_events",
        {},
        json.dumps({"batch": [{"channel": CHANNEL, "name": "e", "data": "1"}]}).encode(),
    ),
    ("GET", f"/apps/{APP_ID}/channels", {"filter_by_prefix": "presence-", "info": "user_count"}, b""),
    ("GET", f"/apps/{APP_ID}/channels/{CHANNEL}", {"info": "user_count,subscription_count"}, b""),
    ("GET", f"/apps/{APP_ID}/channels/{CHANNEL}/users", {"note": "x y z"}, b""),
    ("POST", f"/apps/{APP_ID}/users/u1/terminate_connections", {}, b"{}"),
]
OTHER_PATHS = [
    f"/apps/{APP_ID}/events",
    f"/apps/{APP_ID}/batch_events",
    f"/apps/{APP_ID}/channels",
    f"/apps/{APP_ID}/channels/presence-other",
    f"/apps/{APP_ID}/channels/{CHANNEL}/users",
    f"/apps/{APP_ID}/users/u2/terminate_connections",
    f"/APPS/{APP_ID}/events",
    f"/apps/{APP_ID}/channels/{CHANNEL}",
]
KEYS = [
    "auth_key",
    "auth_timestamp",
    "auth_version",
    "body_md5",
    "auth_signature",
    "filter_by_prefix",
    "info",
]


def sign(h: Harness, method: str, path: str, extra: dict[str, str], body: bytes) -> Request:
    """Signed as the SDKs sign: over the decoded values, sent percent-encoded."""
    params = {"auth_key": KEY, "auth_timestamp": f"{h.now:.0f}", "auth_version": "1.0", **extra}
    params["body_md5"] = body_md5(body)
    params["auth_signature"] = sign_request(SECRET, method, path, params)
    pairs = tuple((quote(key, safe=""), quote(value, safe="")) for key, value in params.items())
    return Request(method, path, pairs, body)


Mutation = Callable[[Request, st.DataObject], Request]


def _index(request: Request, data: st.DataObject) -> int:
    return data.draw(st.integers(0, len(request.pairs) - 1))


def recase_key(request: Request, data: st.DataObject) -> Request:
    i = _index(request, data)
    key, value = request.pairs[i]
    flipped = "".join(c.upper() if data.draw(st.booleans()) else c for c in key)
    return replace(request, pairs=(*request.pairs[:i], (flipped, value), *request.pairs[i + 1 :]))


def reorder(request: Request, data: st.DataObject) -> Request:
    return replace(request, pairs=tuple(data.draw(st.permutations(request.pairs))))


def _percent_encode_one(text: str, data: st.DataObject) -> str:
    """One plain character of `text` as %XX (either hex case): decodes to the same text."""
    plain = [i for i, c in enumerate(text) if c.isalnum() or c in "-_."]
    if not plain:
        return text
    i = data.draw(st.sampled_from(plain))
    code = f"%{ord(text[i]):02X}"
    return text[:i] + (code.lower() if data.draw(st.booleans()) else code) + text[i + 1 :]


def percent_encode(request: Request, data: st.DataObject) -> Request:
    i = _index(request, data)
    key, value = request.pairs[i]
    if data.draw(st.booleans()):
        key = _percent_encode_one(key, data)
    else:
        value = _percent_encode_one(value, data)
    return replace(request, pairs=(*request.pairs[:i], (key, value), *request.pairs[i + 1 :]))


def space_style(request: Request, data: st.DataObject) -> Request:
    del data
    pairs = tuple(
        (key, value.replace("%20", "+") if "%20" in value else value.replace("+", "%20"))
        for key, value in request.pairs
    )
    return replace(request, pairs=pairs)


def encode_path(request: Request, data: st.DataObject) -> Request:
    return replace(request, path=_percent_encode_one(request.path, data))


def duplicate(request: Request, data: st.DataObject) -> Request:
    key, value = request.pairs[_index(request, data)]
    key = data.draw(st.sampled_from([key, key.upper(), key.capitalize()]))
    value = data.draw(st.sampled_from([value, "1", quote(f"{1_800_000_000 + 5}"), "private-"]))
    position = data.draw(st.integers(0, len(request.pairs)))
    return replace(request, pairs=(*request.pairs[:position], (key, value), *request.pairs[position:]))


def add(request: Request, data: st.DataObject) -> Request:
    key = data.draw(st.sampled_from([*KEYS, "socket_id", "zzz"]))
    value = data.draw(st.sampled_from(["", "1", "private-", "user_count", "1.1"]))
    return replace(request, pairs=(*request.pairs, (key, value)))


def remove(request: Request, data: st.DataObject) -> Request:
    i = _index(request, data)
    return replace(request, pairs=request.pairs[:i] + request.pairs[i + 1 :])


def change_value(request: Request, data: st.DataObject) -> Request:
    i = _index(request, data)
    key, value = request.pairs[i]
    new = data.draw(st.sampled_from(["", "0", "2.0", "private-", "user_count", value + "0", value[:-1]]))
    return replace(request, pairs=(*request.pairs[:i], (key, quote(new, safe="")), *request.pairs[i + 1 :]))


def change_path(request: Request, data: st.DataObject) -> Request:
    return replace(request, path=data.draw(st.sampled_from(OTHER_PATHS)))


def change_method(request: Request, data: st.DataObject) -> Request:
    return replace(request, method=data.draw(st.sampled_from(["GET", "POST", "PUT", "post"])))


def change_body(request: Request, data: st.DataObject) -> Request:
    return replace(request, body=data.draw(st.sampled_from([b"", b"{}", _events_body("evil.event")])))


def smuggle(request: Request, data: st.DataObject) -> Request:
    """The reported attack: fresh lower-case timestamp and body MD5, the signed ones in upper case."""
    body = _events_body("evil.event", data.draw(st.sampled_from(['{"x":1}', "owned"])))
    params = {key.lower(): value for key, value in parse_qsl(request.query, keep_blank_values=True)}
    timestamp = params.get("auth_timestamp", "")
    fresh = {
        **params,
        "auth_timestamp": str(int(timestamp) + 1) if timestamp.isdecimal() else "1800000001",
        "body_md5": body_md5(body),
        "filter_by_prefix": "private-",
    }
    signed = [
        (key.upper(), params[key])
        for key in ("auth_timestamp", "body_md5", "filter_by_prefix")
        if key in params
    ]
    pairs = [(quote(k, safe=""), quote(v, safe="")) for k, v in [*fresh.items(), *signed]]
    return replace(request, pairs=tuple(pairs), body=body)


PRESERVING: list[Mutation] = [recase_key, reorder, percent_encode, space_style, encode_path]
CHANGING: list[Mutation] = [
    duplicate,
    add,
    remove,
    change_value,
    change_path,
    change_method,
    change_body,
    smuggle,
]


def send(h: Harness, request: Request) -> HttpResponse:
    response = handle_http(
        h.app, HttpRequest(request.method, request.path, request.query, request.body), h.now
    )
    h.pump()
    return response


def harness() -> tuple[Harness, str]:
    h = Harness()
    member = h.connect()
    h.signin(member, {"id": "u1"})
    h.subscribe(member, CHANNEL, user={"user_id": "u1"})
    return h, member


@settings(max_examples=1_000, deadline=None)
@given(
    st.sampled_from(BASES),
    st.lists(st.sampled_from(PRESERVING + CHANGING), min_size=1, max_size=3),
    st.data(),
)
def test_a_signed_request_mutated_is_served_only_if_it_means_the_same(
    base: tuple[str, str, dict[str, str], bytes], mutations: list[Mutation], data: st.DataObject
) -> None:
    h, member = harness()
    original = sign(h, *base)
    mutated = original
    for mutation in mutations:
        mutated = mutation(mutated, data)
    response = send(h, mutated)
    if mutated.meaning() == original.meaning():
        assert response.status == 200, (mutated, response.body)
    else:
        assert response.status in {400, 401, 404, 405}, (mutated, response.body)
        assert h.take(member) == [] and member in h.app.connections


def test_every_base_request_is_served_unchanged() -> None:
    for base in BASES:
        h, _ = harness()
        assert send(h, sign(h, *base)).status == 200, base


def test_case_folded_duplicates_cannot_replay_a_signed_url_with_a_new_body() -> None:
    h, member = harness()
    captured = sign(h, *BASES[0])
    h.now += 7 * 24 * 3600  # a week later: the signed timestamp alone would have expired
    body = _events_body("evil.event", "owned")
    params = dict(captured.pairs)
    replayed = replace(
        captured,
        pairs=(
            ("auth_timestamp", f"{h.now:.0f}"),
            ("body_md5", body_md5(body)),
            ("auth_key", KEY),
            ("auth_version", "1.0"),
            ("auth_signature", params["auth_signature"]),
            ("AUTH_TIMESTAMP", params["auth_timestamp"]),
            ("BODY_MD5", params["body_md5"]),
        ),
        body=body,
    )
    response = send(h, replayed)
    assert (response.status, response.body) == (400, b"Duplicate query parameter: auth_timestamp\n")
    assert h.take(member) == []


def test_case_folded_duplicates_cannot_swap_filter_by_prefix() -> None:
    h, _ = harness()
    captured = sign(h, *BASES[3])
    response = send(h, replace(captured, pairs=(("filter_by_prefix", "private-"), *captured.pairs)))
    assert response.status == 400
    swapped = [(k.upper() if k == "filter_by_prefix" else k, v) for k, v in captured.pairs]
    response = send(h, replace(captured, pairs=(("filter_by_prefix", "p"), *swapped)))
    assert response.status == 400
