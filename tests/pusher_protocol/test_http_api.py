"""The HTTP API core: the official Python SDK's requests, and hand-made bad ones."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

import pusher.errors
import pytest

from tests.pusher_protocol.helpers import APP_ID, KEY, SECRET, Harness
from tests.pusher_protocol.sdk_backend import sdk_client
from waxos.pusher_protocol import HttpRequest, HttpResponse, handle_http
from waxos.pusher_protocol.signing import body_md5, sign_request


def signed(
    h: Harness,
    method: str,
    path: str,
    body: Any = None,
    *,
    params: dict[str, str] | None = None,
    timestamp: float | None = None,
    secret: str = SECRET,
    key: str = KEY,
    md5: str | None = None,
) -> HttpResponse:
    raw = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
    query = {"auth_key": key, "auth_timestamp": f"{timestamp or h.now:.0f}", "auth_version": "1.0"}
    query.update(params or {})
    if raw or md5 is not None:
        query["body_md5"] = md5 if md5 is not None else body_md5(raw)
    query["auth_signature"] = sign_request(secret, method, path, query)
    response = handle_http(h.app, HttpRequest(method, path, urlencode(query), raw), h.now)
    h.pump()
    return response


def text(response: HttpResponse) -> str:
    return response.body.decode().rstrip("\n")


def test_sdk_trigger_reaches_subscribers_and_excludes_socket_id() -> None:
    h = Harness()
    a, b = h.connect(), h.connect()
    h.subscribe(a, "orders")
    h.subscribe(b, "orders")
    client = sdk_client(h)
    assert client.trigger("orders", "created", {"id": 1}) == {}
    expected = {"event": "created", "channel": "orders", "data": '{"id": 1}'}
    assert h.take(a) == [expected] and h.take(b) == [expected]
    client.trigger(["orders", "other"], "created", "raw", socket_id=a)
    assert h.take(a) == [] and h.take(b) == [{"event": "created", "channel": "orders", "data": "raw"}]


def test_sdk_batch_channel_queries_and_users() -> None:
    h = Harness()
    a, b = h.connect(), h.connect()
    h.subscribe(a, "presence-room", user={"user_id": "u1"})
    h.subscribe(b, "presence-room", user={"user_id": "u1"})
    h.subscribe(b, "public-1")
    client = sdk_client(h)
    batch = [{"channel": "public-1", "name": f"e{i}", "data": str(i)} for i in range(10)]
    assert client.trigger_batch(batch) == {}
    assert [f["event"] for f in h.take(b)][-10:] == [f"e{i}" for i in range(10)]
    assert client.channels_info() == {"channels": {"presence-room": {}, "public-1": {}}}
    assert client.channels_info("presence-", ["user_count"]) == {
        "channels": {"presence-room": {"user_count": 1}}
    }
    assert client.channel_info("presence-room", ["user_count", "subscription_count"]) == {
        "occupied": True,
        "user_count": 1,
        "subscription_count": 2,
    }
    assert client.channel_info("nobody-here") == {"occupied": False}
    assert client.users_info("presence-room") == {"users": [{"id": "u1"}]}


def test_sdk_errors_map_to_its_exceptions() -> None:
    h = Harness()
    client = sdk_client(h)
    with pytest.raises(pusher.errors.PusherBadRequest, match="user_count may only be requested"):
        client.channels_info(attributes=["user_count"])
    with pytest.raises(pusher.errors.PusherBadRequest, match="Cannot retrieve the user count"):
        client.channel_info("public", ["user_count"])
    with pytest.raises(pusher.errors.PusherBadRequest, match="only be retrieved for presence"):
        client.users_info("public")
    with pytest.raises(pusher.errors.PusherBadStatus, match="413: The data content"):
        client.trigger("a", "e", "x" * 10_241)
    with pytest.raises(pusher.errors.PusherBadAuth, match="Invalid signature"):
        sdk_client(h, secret="wrong-secret").trigger("a", "e", "x")
    with pytest.raises(pusher.errors.PusherBadStatus, match="404: Unknown app id: 999"):
        sdk_client(h, app_id="999").trigger("a", "e", "x")


def test_sdk_send_to_user_and_terminate_with_its_buggy_path() -> None:
    h = Harness()
    s = h.connect()
    h.signin(s, {"id": "u7"})
    client = sdk_client(h)
    client.send_to_user("u7", "hello", {"a": 1})
    assert h.take(s) == [{"event": "hello", "channel": "#server-to-user-u7", "data": '{"a": 1}'}]
    assert client.terminate_user_connections("u7") == {}
    assert h.closed[s][0] == 4009


def test_sdk_encrypted_trigger_forwards_the_ciphertext_unchanged() -> None:
    h = Harness()
    s = h.connect()
    h.subscribe(s, "private-encrypted-x")
    client = sdk_client(h, encryption_master_key_base64="MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=")
    client.trigger("private-encrypted-x", "secret", {"a": 1})
    [frame] = h.take(s)
    assert set(json.loads(frame["data"])) == {"nonce", "ciphertext"}


def test_events_info_attributes() -> None:
    h = Harness()
    s = h.connect()
    h.subscribe(s, "presence-a", user={"user_id": "1"})
    body = {
        "name": "e",
        "data": "d",
        "channels": ["presence-a", "b"],
        "info": "user_count,subscription_count",
    }
    response = signed(h, "POST", f"/apps/{APP_ID}/events", body)
    assert json.loads(response.body) == {
        "channels": {
            "presence-a": {"user_count": 1, "subscription_count": 1},
            "b": {"subscription_count": 0},
        }
    }
    batch = {
        "batch": [
            {"name": "e", "data": "d", "channel": "presence-a", "info": "user_count"},
            {"name": "e", "data": "d", "channel": "b"},
        ]
    }
    response = signed(h, "POST", f"/apps/{APP_ID}/batch_events", batch)
    assert json.loads(response.body) == {"batch": [{"user_count": 1}, {}]}


def test_single_channel_key_and_cache_info() -> None:
    h = Harness()
    assert (
        signed(h, "POST", f"/apps/{APP_ID}/events", {"name": "e", "data": "d", "channel": "cache-a"}).status
        == 200
    )
    response = signed(h, "GET", f"/apps/{APP_ID}/channels/cache-a", params={"info": "cache"})
    assert json.loads(response.body) == {
        "occupied": False,
        "cache": {"event": "e", "data": "d", "ttl": 1800},
    }
    response = signed(h, "GET", f"/apps/{APP_ID}/channels/cache-b", params={"info": "cache"})
    assert json.loads(response.body) == {"occupied": False, "cache": None}
    bad = signed(h, "GET", f"/apps/{APP_ID}/channels/plain", params={"info": "cache"})
    assert bad.status == 400


@pytest.mark.parametrize(
    ("body", "status", "reason"),
    [
        (b"{", 400, "Request body is not valid JSON"),
        ([1], 400, "Request body must be a JSON object"),
        ({"data": "d", "channels": ["a"]}, 400, "Expected name parameter to be a string"),
        (
            {"name": "n" * 201, "data": "d", "channels": ["a"]},
            400,
            "Event name is too long (at most 200 characters)",
        ),
        ({"name": "e", "data": {"a": 1}, "channels": ["a"]}, 400, "Expected data parameter to be a string"),
        ({"name": "e", "data": "d"}, 400, "Expected channels parameter to be a non-empty array of strings"),
        (
            {"name": "e", "data": "d", "channels": []},
            400,
            "Expected channels parameter to be a non-empty array of strings",
        ),
        (
            {"name": "e", "data": "d", "channels": "a"},
            400,
            "Expected channels parameter to be a non-empty array of strings",
        ),
        (
            {"name": "e", "data": "d", "channels": [str(i) for i in range(101)]},
            400,
            "Too many channels: at most 100 per event",
        ),
        ({"name": "e", "data": "d", "channels": ["bad name"]}, 400, "Invalid channel name: bad name"),
        (
            {"name": "e", "data": "d", "channels": ["private-encrypted-a", "b"]},
            400,
            "Cannot trigger to multiple channels when one is encrypted",
        ),
        ({"name": "e", "data": "d", "channels": ["a"], "socket_id": "nope"}, 400, "Invalid socket_id: nope"),
        (
            {"name": "e", "data": "d", "channels": ["a"], "info": 5},
            400,
            "Expected info parameter to be a comma-separated string",
        ),
        (
            {"name": "e", "data": "é" * 5121, "channels": ["a"]},
            413,
            "The data content of this event exceeds the allowed maximum (10240 bytes)",
        ),
    ],
)
def test_event_validation(body: Any, status: int, reason: str) -> None:
    h = Harness()
    response = signed(h, "POST", f"/apps/{APP_ID}/events", body)
    assert response.status == status and text(response).startswith(reason)
    assert response.content_type.startswith("text/plain")


def test_data_of_exactly_10240_bytes_is_accepted() -> None:
    h = Harness()
    body = {"name": "e", "data": "x" * 10_240, "channels": ["a"]}
    assert signed(h, "POST", f"/apps/{APP_ID}/events", body).status == 200


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"batch": "x"}, "Expected batch parameter to be an array of events"),
        (
            {"batch": [{"name": "e", "data": "d", "channel": "a"}] * 11},
            "Batch too large: at most 10 events per request",
        ),
        (
            {"batch": [{"name": "e", "data": "d", "channel": "a"}, 5]},
            "Expected name parameter to be a string",
        ),
        (
            {"batch": [{"name": "e", "data": "d", "channel": "a"}, {"name": "e", "data": "d"}]},
            "Expected channel parameter to be a string",
        ),
    ],
)
def test_batch_validation_publishes_nothing(body: Any, reason: str) -> None:
    h = Harness()
    s = h.connect()
    h.subscribe(s, "a")
    response = signed(h, "POST", f"/apps/{APP_ID}/batch_events", body)
    assert response.status == 400 and text(response).startswith(reason)
    assert h.take(s) == []


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 3000,
        b'{"name":"e","data":"d","channels":' + b"[" * 990 + b"]" * 990 + b"}",
        b'{"batch":[' + b"[" * 3000 + b"]}",
    ],
)
def test_deeply_nested_bodies_are_400(raw: bytes) -> None:
    h = Harness()
    s = h.connect()
    h.subscribe(s, "a")
    for route in ("events", "batch_events"):
        response = signed(h, "POST", f"/apps/{APP_ID}/{route}", raw)
        assert (response.status, text(response)) == (400, "Request body is not valid JSON")
    assert h.take(s) == []


def test_routing_and_app_ids() -> None:
    h = Harness()
    assert signed(h, "GET", "/apps/999/channels").status == 404
    assert signed(h, "GET", "/nowhere").status == 404
    assert signed(h, "GET", f"/apps/{APP_ID}/events").status == 405
    assert signed(h, "GET", f"/apps/{APP_ID}/channels/bad%20name").status == 400
    assert signed(h, "POST", f"/apps/{APP_ID}/users/bad%20id/terminate_connections", {}).status == 400
    assert signed(h, "POST", f"/apps/{APP_ID}/users/u1/terminate_connections", {}).status == 200


def test_channels_are_listed_without_server_to_user_channels() -> None:
    h = Harness()
    s = h.connect()
    h.signin(s, {"id": "u"})
    h.subscribe(s, "#server-to-user-u")
    h.subscribe(s, "a")
    response = signed(h, "GET", f"/apps/{APP_ID}/channels", params={"info": "subscription_count"})
    assert json.loads(response.body) == {"channels": {"a": {"subscription_count": 1}}}


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"key": "other"}, "Unknown auth_key: other"),
        (
            {"timestamp": 1_000.0},
            "Timestamp expired: Given timestamp (1970-01-01T00:16:40Z) not within 600s of server time",
        ),
        (
            {"secret": "nope"},
            'Invalid signature: you should have sent HmacSHA256Hex("POST\\n/apps/100001/events\\nauth_key=',
        ),
        ({"md5": "0" * 32}, "The body_md5 parameter does not match the MD5 of the request body"),
    ],
)
def test_authentication_failures_are_401(kwargs: dict[str, Any], reason: str) -> None:
    h = Harness()
    s = h.connect()
    h.subscribe(s, "a")
    body = {"name": "e", "data": "d", "channels": ["a"]}
    response = signed(h, "POST", f"/apps/{APP_ID}/events", body, **kwargs)
    assert response.status == 401 and text(response).startswith(reason)
    assert h.take(s) == []


@pytest.mark.parametrize(
    "timestamp",
    # str.isdigit() accepts the first two; int() refuses the first and reads the second as a number;
    # the third has more digits than int() converts by default.
    ["²", "\u0661\u0668" + "\u0660" * 8, "9" * 5_000, "-1", "1.8e9", " 1800000000", ""],
    ids=["superscript", "arabic-indic", "5000-digits", "negative", "float", "space", "empty"],
)
def test_a_timestamp_other_than_ascii_digits_is_401(timestamp: str) -> None:
    h = Harness()
    response = signed(h, "GET", f"/apps/{APP_ID}/channels", params={"auth_timestamp": timestamp})
    assert (response.status, text(response)) == (401, "Missing or invalid auth_timestamp parameter")


def test_a_timestamp_beyond_the_calendar_is_expired_not_an_error() -> None:
    h = Harness()
    response = signed(h, "GET", f"/apps/{APP_ID}/channels", params={"auth_timestamp": "9" * 12})
    assert response.status == 401
    assert text(response).startswith("Timestamp expired: Given timestamp (999999999999) not within 600s")


def test_timestamp_window_is_600_seconds_either_way() -> None:
    h = Harness()
    path = f"/apps/{APP_ID}/channels"
    assert signed(h, "GET", path, timestamp=h.now - 599).status == 200
    assert signed(h, "GET", path, timestamp=h.now + 599).status == 200
    assert signed(h, "GET", path, timestamp=h.now + 600).status == 401


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("", "Missing auth_key parameter"),
        (f"auth_key={KEY}", "Version required"),
        (f"auth_key={KEY}&auth_timestamp=NOW&body_md5=MD5", "Version required"),
        (f"auth_key={KEY}&auth_version=", "Unsupported auth_version, expected 1.0"),
        (f"auth_key={KEY}&auth_version=2.0", "Unsupported auth_version, expected 1.0"),
        (
            f"auth_key={KEY}&auth_version=1.0&auth_timestamp=soon",
            "Missing or invalid auth_timestamp parameter",
        ),
        (
            f"auth_key={KEY}&auth_version=1.0&auth_timestamp=NOW",
            "Missing body_md5 parameter for a request with a body",
        ),
        (
            f"auth_key={KEY}&auth_version=1.0&auth_timestamp=NOW&body_md5=MD5",
            "Missing auth_signature parameter",
        ),
    ],
)
def test_missing_auth_parameters(query: str, reason: str) -> None:
    h = Harness()
    raw = b"{}"
    query = query.replace("NOW", f"{h.now:.0f}").replace("MD5", body_md5(raw))
    response = handle_http(h.app, HttpRequest("POST", f"/apps/{APP_ID}/events", query, raw), h.now)
    assert (response.status, text(response)) == (401, reason)


def test_a_correctly_signed_request_without_auth_version_is_refused() -> None:
    h = Harness()
    path = f"/apps/{APP_ID}/channels"
    query = {"auth_key": KEY, "auth_timestamp": f"{h.now:.0f}"}
    query["auth_signature"] = sign_request(SECRET, "GET", path, query)
    response = handle_http(h.app, HttpRequest("GET", path, urlencode(query), b""), h.now)
    assert (response.status, text(response)) == (401, "Version required")


def test_url_encoded_query_values_are_decoded_before_verifying() -> None:
    h = Harness()
    s = h.connect()
    h.subscribe(s, "presence-x;y", user={"user_id": "1"})
    params = {"filter_by_prefix": "presence-x;", "info": "user_count"}
    response = signed(h, "GET", f"/apps/{APP_ID}/channels", params=params)
    assert json.loads(response.body) == {"channels": {"presence-x;y": {"user_count": 1}}}


def test_percent_encoded_path_is_verified_in_either_form() -> None:
    h = Harness()
    query = {"auth_key": KEY, "auth_timestamp": f"{h.now:.0f}", "auth_version": "1.0"}
    query["auth_signature"] = sign_request(SECRET, "GET", f"/apps/{APP_ID}/channels/a@b", query)
    request = HttpRequest("GET", f"/apps/{APP_ID}/channels/a%40b", urlencode(query), b"")
    assert handle_http(h.app, request, h.now).status == 200


def test_real_time_is_not_read_by_the_core() -> None:
    h = Harness()
    assert abs(h.now - time.time()) > 3600  # the harness clock is far from the wall clock
    assert signed(h, "GET", f"/apps/{APP_ID}/channels").status == 200


@pytest.mark.parametrize(
    "body",
    [
        b'{"name":"e","channels":["a"],"data":"\\ud800"}',
        b'{"name":"\\udc00","channels":["a"],"data":"d"}',
        b'{"name":"e","channels":["\\ud800"],"data":"d"}',
    ],
)
def test_an_unpaired_surrogate_in_a_body_is_400(body: bytes) -> None:
    h = Harness()
    s = h.connect()
    h.subscribe(s, "a")
    response = signed(h, "POST", f"/apps/{APP_ID}/events", body)
    assert (response.status, text(response)) == (400, "Request body is not valid JSON")
    assert h.take(s) == []
