"""PusherService through an in-memory transport: payloads, signing, validation, failure mapping."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import inspect
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from nacl.secret import SecretBox

from tests.support.environment import free_port
from tests.support.events import Received, Reply, StandIn
from tests.support.settings import MASTER_KEY, PUSHER_KEY, PUSHER_SECRET, make_settings
from waxos.publisher.results import FailureKind
from waxos.publisher.service import (
    EncodedEvent,
    EncryptionNotConfigured,
    OutgoingEvent,
    PublishInvalid,
    PusherService,
)
from waxos.pusher_protocol.names import InvalidName


def hmac_hex(signed: bytes) -> str:
    return hmac.new(PUSHER_SECRET.encode(), signed, hashlib.sha256).hexdigest()


class Recorder:
    """A stand-in Pusher API: verifies each request's signature like the real one, then answers.

    Served on 127.0.0.1 by the `recorder` fixture; the publisher reaches it through its real transport.
    """

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.answer: Callable[[Received], Awaitable[Reply] | Reply] = lambda _request: Reply()
        self.port = 0
        self.services: list[PusherService] = []

    async def __call__(self, request: Received) -> Reply:
        self.requests.append(request)
        params = dict(request.params)
        signature = params.pop("auth_signature")
        query = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
        to_sign = f"{request.method}\n{request.path}\n{query}"
        expected = hmac.new(PUSHER_SECRET.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(signature, expected):
            return Reply(401, "Invalid signature")
        if params["body_md5"] != hashlib.md5(request.content).hexdigest():  # noqa: S324 - Pusher's rule
            return Reply(401, "Invalid body_md5")
        answer = self.answer(request)
        return await answer if inspect.isawaitable(answer) else answer

    def bodies(self) -> list[dict[str, object]]:
        return [json.loads(r.content) for r in self.requests]


@pytest.fixture
async def recorder() -> AsyncIterator[Recorder]:
    """A `Recorder` served for the test; the services made for it are closed afterwards."""
    stand_in = Recorder()
    server = StandIn(stand_in)
    await server.start()
    stand_in.port = server.port
    try:
        yield stand_in
    finally:
        for service in stand_in.services:
            await service.aclose()
        await server.close()


def service_with(recorder: Recorder, **overrides: object) -> PusherService:
    """A PusherService whose requests go to `recorder` (a closed port if it is not served)."""
    # Encrypted channels stay off unless a test turns them on.
    values = {"pusher_port": recorder.port or free_port(), "pusher_encryption_master_key_base64": None}
    service = PusherService(make_settings(**{**values, **overrides}))
    recorder.services.append(service)
    return service


async def test_trigger_sends_a_signed_request_with_json_string_data(recorder: Recorder) -> None:
    service = service_with(recorder)
    result = await service.trigger("private-workspace-1.chats", "message.new", {"message_id": 7, "é": "ü"})
    assert result.ok, result
    assert result.status == 200 and result.events == 1
    assert recorder.requests[0].path == "/apps/100001/events"
    body = recorder.bodies()[0]
    assert body["name"] == "message.new"
    assert body["channels"] == ["private-workspace-1.chats"]
    assert isinstance(body["data"], str)
    assert json.loads(body["data"]) == {"message_id": 7, "é": "ü"}
    assert "socket_id" not in body


async def test_trigger_to_many_channels_and_excluding_a_socket(recorder: Recorder) -> None:
    channels = [f"private-user-{n}" for n in range(1, 101)]
    result = await service_with(recorder).trigger(channels, "chat.assigned", {"chat_id": 1}, "123.456")
    assert result.ok
    body = recorder.bodies()[0]
    assert body["channels"] == channels
    assert body["socket_id"] == "123.456"


async def test_trigger_to_more_than_100_channels_sends_requests_of_at_most_100(recorder: Recorder) -> None:
    channels = [f"private-user-{n}" for n in range(1, 251)]
    result = await service_with(recorder).trigger(channels, "notification.system", {"n": 1}, "1.2")
    assert result.ok and result.events == 3
    bodies = recorder.bodies()
    assert sorted(len(body["channels"]) for body in bodies) == [50, 100, 100]
    assert sorted(c for body in bodies for c in body["channels"]) == sorted(channels)
    assert {body["socket_id"] for body in bodies} == {"1.2"}
    assert {body["data"] for body in bodies} == {'{"n":1}'}


async def test_a_split_trigger_fails_when_any_of_its_requests_fails_and_says_how_many(
    recorder: Recorder,
) -> None:
    def answer(request: Received) -> Reply:
        refused = "private-user-150" in json.loads(request.content)["channels"]
        return Reply(500, "boom") if refused else Reply()

    recorder.answer = answer
    result = await service_with(recorder).trigger(
        [f"private-user-{n}" for n in range(1, 301)], "message.new", {}
    )
    assert not result.ok and result.failure is FailureKind.SERVER_ERROR
    assert result.reason is not None and result.reason.startswith("1 of 3 requests failed")
    assert len(recorder.requests) == 3


async def test_one_kept_alive_connection_carries_every_call(recorder: Recorder) -> None:
    service = service_with(recorder)
    for n in range(3):
        assert (await service.trigger("private-user-1", "message.new", {"n": n})).ok
    assert (await service.send_batch([EncodedEvent("private-user-1", "message.new", "{}")])).ok
    assert len(recorder.requests) == 4
    assert len({request.peer for request in recorder.requests}) == 1


@pytest.mark.parametrize(
    ("call", "rule"),
    [
        (lambda s: s.trigger("bad channel!", "message.new", {}), "only letters"),
        (lambda s: s.trigger("a" * 165, "message.new", {}), "at most 164"),
        (lambda s: s.trigger([], "message.new", {}), "at least one channel"),
        (
            lambda s: s.trigger([*(f"c{n}" for n in range(150)), "bad channel!"], "message.new", {}),
            "only letters",
        ),
        (lambda s: s.trigger(["c1", "c1"], "message.new", {}), "distinct"),
        (lambda s: s.trigger("c1", "MessageNew", {}), "resource.action"),
        (lambda s: s.trigger("c1", "client-typing", {}), "reserved"),
        (lambda s: s.trigger("c1", "message.new", {"x": "a" * 10_300}), "at most 10240"),
        (lambda s: s.trigger("c1", "message.new", {"x": "€" * 3_500}), "bytes once JSON-encoded"),
        (lambda s: s.trigger("c1", "message.new", {"x": object()}), "JSON-serialisable"),
        (lambda s: s.trigger("c1", "message.new", {"x": float("nan")}), "JSON-serialisable"),
        (lambda s: s.trigger("c1", "message.new", {}, socket_id="abc"), "digits.digits"),
        (lambda s: s.trigger("private-encrypted-x", "message.new", {}), "MASTER_KEY"),
    ],
)
async def test_invalid_input_is_a_typed_error_before_any_http(call, rule: str, recorder: Recorder) -> None:
    with pytest.raises(PublishInvalid, match=rule):
        await call(service_with(recorder))
    assert recorder.requests == []


async def test_data_at_exactly_the_limit_is_sent(recorder: Recorder) -> None:
    # 10,240 bytes once encoded: {"x":"…"} is 8 bytes of framing.
    result = await service_with(recorder).trigger("c1", "message.new", {"x": "a" * (10_240 - 8)})
    assert result.ok
    assert len(recorder.bodies()[0]["data"].encode()) == 10_240  # type: ignore[union-attr]


async def test_non_ascii_data_is_counted_in_bytes_not_memory_size(recorder: Recorder) -> None:
    # The SDK's batch check uses sys.getsizeof and would refuse this 6 KB of UTF-8 (pusher issue #236).
    batch = await service_with(recorder).trigger_batch(
        [OutgoingEvent("c1", "message.new", {"x": "é" * 3000})]
    )
    assert batch.ok


async def test_batch_is_split_into_requests_of_ten_and_reports_failures_per_event(recorder: Recorder) -> None:
    def answer(request: Received) -> Reply:
        names = [e["data"] for e in json.loads(request.content)["batch"]]
        return Reply(500, "boom") if '{"n":10}' in names else Reply()

    recorder.answer = answer
    events = [OutgoingEvent(f"private-user-{n % 3 + 1}", "message.new", {"n": n}) for n in range(25)]
    result = await service_with(recorder).trigger_batch(events)
    sizes = sorted(len(body["batch"]) for body in recorder.bodies())
    assert sizes == [5, 10, 10]
    assert all(r.path == "/apps/100001/batch_events" for r in recorder.requests)
    assert not result.ok
    assert [c.ok for c in result.chunks] == [True, False, True]
    assert [c.events for c in result.chunks] == [10, 10, 5]
    sent = [json.loads(e["data"])["n"] for body in recorder.bodies() for e in body["batch"]]
    assert sorted(sent) == list(range(25))


async def test_one_invalid_event_sends_nothing_of_the_batch(recorder: Recorder) -> None:
    events = [OutgoingEvent("c1", "message.new", {}), OutgoingEvent("bad name", "message.new", {})]
    with pytest.raises(PublishInvalid):
        await service_with(recorder).trigger_batch(events)
    assert recorder.requests == []


async def test_send_batch_is_one_request_of_the_encoded_events_as_given(recorder: Recorder) -> None:
    service = service_with(recorder, pusher_encryption_master_key_base64=MASTER_KEY)
    events = [
        EncodedEvent("private-workspace-1.chats", "message.new", '{"seq":1}'),
        EncodedEvent("private-user-2", "chat.assigned", '{"seq":7}', socket_id="1.2"),
        EncodedEvent("private-encrypted-workspace-1.chats", "message.new", '{"seq":3}'),
    ]
    result = await service.send_batch(events, 1.0)
    assert result.ok and result.events == 3 and len(recorder.requests) == 1
    batch = recorder.bodies()[0]["batch"]
    assert batch[:2] == [  # type: ignore[index]
        {"channel": "private-workspace-1.chats", "name": "message.new", "data": '{"seq":1}'},
        {"channel": "private-user-2", "name": "chat.assigned", "data": '{"seq":7}', "socket_id": "1.2"},
    ]
    assert set(json.loads(batch[2]["data"])) == {"nonce", "ciphertext"}  # type: ignore[index]


@pytest.mark.parametrize("count", [0, 11])
async def test_send_batch_refuses_anything_but_one_request_of_1_to_10(count: int, recorder: Recorder) -> None:
    events = [EncodedEvent("private-user-1", "message.new", "{}")] * count
    with pytest.raises(ValueError, match="1-10 events"):
        await service_with(recorder).send_batch(events)
    assert recorder.requests == []


async def test_send_batch_names_the_channel_it_cannot_seal(recorder: Recorder) -> None:
    events = [
        EncodedEvent("private-user-1", "message.new", "{}"),
        EncodedEvent("private-encrypted-user-1", "message.new", "{}"),
    ]
    with pytest.raises(EncryptionNotConfigured) as raised:
        await service_with(recorder).send_batch(events)
    assert raised.value.channel == "private-encrypted-user-1"
    assert recorder.requests == []


async def test_encrypted_channel_payload_is_sealed_with_the_channel_secret(recorder: Recorder) -> None:
    service = service_with(recorder, pusher_encryption_master_key_base64=MASTER_KEY)
    channel = "private-encrypted-workspace-1.chats"
    result = await service.trigger(channel, "message.new", {"message_id": 1})
    assert result.ok
    sent = recorder.bodies()[0]["batch"][0]  # type: ignore[index]
    sealed = json.loads(sent["data"])
    shared = hashlib.sha256(channel.encode() + base64.b64decode(MASTER_KEY)).digest()
    plain = SecretBox(shared).decrypt(
        base64.b64decode(sealed["ciphertext"]), base64.b64decode(sealed["nonce"])
    )
    assert json.loads(plain) == {"message_id": 1}


async def test_encrypted_channel_cannot_be_triggered_with_others(recorder: Recorder) -> None:
    service = service_with(recorder, pusher_encryption_master_key_base64=MASTER_KEY)
    with pytest.raises(PublishInvalid, match="alone"):
        await service.trigger(["private-encrypted-a", "private-b"], "message.new", {})


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, FailureKind.INVALID),
        (404, FailureKind.INVALID),
        (413, FailureKind.INVALID),
        (401, FailureKind.UNAUTHORIZED),
        (403, FailureKind.UNAUTHORIZED),
        (429, FailureKind.RATE_LIMITED),
        (500, FailureKind.SERVER_ERROR),
        (503, FailureKind.SERVER_ERROR),
    ],
)
async def test_http_errors_map_to_failure_kinds(status: int, kind: FailureKind, recorder: Recorder) -> None:
    recorder.answer = lambda _r: Reply(status, "nope", {"Retry-After": "7"})
    result = await service_with(recorder).trigger("c1", "message.new", {})
    assert not result.ok
    assert result.failure is kind and result.status == status
    assert result.retry_after_seconds == (7.0 if status == 429 else None)
    assert "nope" in (result.reason or "")


async def test_a_200_with_a_body_that_is_not_json_is_a_server_error(recorder: Recorder) -> None:
    recorder.answer = lambda _r: Reply(200, "<html>proxy</html>")
    result = await service_with(recorder).trigger("c1", "message.new", {})
    assert not result.ok and result.failure is FailureKind.SERVER_ERROR
    assert "not JSON" in (result.reason or "")


async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A server that reads the request and closes the connection without answering."""
    await reader.read(65536)
    writer.close()


async def never_answer(request: Received) -> Reply:
    await asyncio.sleep(5)
    return Reply()


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        ("refused", FailureKind.UNREACHABLE),
        ("hang-up", FailureKind.UNREACHABLE),
        ("no answer", FailureKind.TIMEOUT),
    ],
)
async def test_transport_errors_never_raise_into_the_caller(
    fault: str, kind: FailureKind, recorder: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    recorder.answer = never_answer
    listener = await asyncio.start_server(hang_up, "127.0.0.1", 0)
    port = {
        "refused": free_port(),
        "hang-up": listener.sockets[0].getsockname()[1],
        "no answer": recorder.port,
    }
    service = service_with(recorder, pusher_port=port[fault], pusher_timeout_seconds=0.3)
    try:
        result = await service.trigger("private-user-1", "message.new", {"a": 1})
    finally:
        listener.close()
    assert not result.ok and result.failure is kind and result.status is None
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "message.new" in errors[0].getMessage() and "private-user-1" in errors[0].getMessage()
    assert PUSHER_SECRET not in caplog.text and "auth_signature" not in caplog.text


async def test_rate_limit_is_logged_as_a_warning_not_an_error(
    caplog: pytest.LogCaptureFixture, recorder: Recorder
) -> None:
    recorder.answer = lambda _r: Reply(429, "slow down", {"Retry-After": "3"})
    await service_with(recorder).trigger("c1", "message.new", {})
    assert [r.levelname for r in caplog.records if r.name.startswith("waxos")] == ["WARNING"]


async def test_terminate_user_connections_uses_the_documented_path(recorder: Recorder) -> None:
    result = await service_with(recorder).terminate_user_connections("42")
    assert result.ok
    assert recorder.requests[0].path == "/apps/100001/users/42/terminate_connections"


async def test_reads_return_the_parsed_body(recorder: Recorder) -> None:
    recorder.answer = lambda _r: Reply(200, json.dumps({"channels": {"presence-workspace-1": {}}}))
    service = service_with(recorder)
    result = await service.channels_info("presence-", ["user_count"])
    assert result.ok and result.body == {"channels": {"presence-workspace-1": {}}}
    params = recorder.requests[0].params
    assert params["filter_by_prefix"] == "presence-" and params["info"] == "user_count"


async def test_metrics_count_outcomes(recorder: Recorder) -> None:
    answers = iter([Reply(), Reply(500)])
    recorder.answer = lambda _r: next(answers)
    service = service_with(recorder)
    await service.trigger("c1", "message.new", {})
    await service.trigger("c1", "message.new", {})
    registry = service.metrics.registry
    assert registry.get_sample_value("waxos_published_events_total", {"outcome": "ok"}) == 1
    assert registry.get_sample_value("waxos_published_events_total", {"outcome": "server_error"}) == 1
    assert registry.get_sample_value("waxos_publish_failure_ratio") == 0.5


# Auth signatures


def test_private_channel_auth_matches_pusher_s_signature_rule() -> None:
    service = service_with(Recorder())
    token = service.authenticate_private_channel("1234.1234", "private-workspace-1.chats")
    expected = hmac_hex(b"1234.1234:private-workspace-1.chats")
    assert token == {"auth": f"{PUSHER_KEY}:{expected}"}


def test_presence_auth_signs_the_channel_data() -> None:
    service = service_with(Recorder())
    token = service.authenticate_presence_channel(
        "1.2", "presence-workspace-1", {"user_id": "5", "user_info": {"name": "Ann"}}
    )
    channel_data = token["channel_data"]
    assert json.loads(channel_data) == {"user_id": "5", "user_info": {"name": "Ann"}}
    signed = f"1.2:presence-workspace-1:{channel_data}".encode()
    assert token["auth"] == f"{PUSHER_KEY}:" + hmac_hex(signed)


def test_encrypted_channel_auth_returns_the_shared_secret_as_a_string() -> None:
    service = service_with(Recorder(), pusher_encryption_master_key_base64=MASTER_KEY)
    token = service.authenticate_private_channel("1.2", "private-encrypted-workspace-1.chats")
    shared = hashlib.sha256(b"private-encrypted-workspace-1.chats" + base64.b64decode(MASTER_KEY)).digest()
    assert token["shared_secret"] == base64.b64encode(shared).decode()
    json.dumps(token)  # serialisable as-is, unlike the SDK's bytes


def test_user_auth_signs_the_user_data() -> None:
    token = service_with(Recorder()).authenticate_user("1.2", {"id": "5", "user_info": {"name": "Ann"}})
    signed = f"1.2::user::{token['user_data']}".encode()
    assert token["auth"] == f"{PUSHER_KEY}:" + hmac_hex(signed)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda s: s.authenticate_private_channel("12", "private-a"), InvalidName),
        (lambda s: s.authenticate_private_channel("1.2", "public-a"), InvalidName),
        (lambda s: s.authenticate_private_channel("1.2", "presence-a"), InvalidName),
        (lambda s: s.authenticate_private_channel("1.2", "private-a b"), InvalidName),
        (lambda s: s.authenticate_private_channel("1.2", "private-encrypted-a"), PublishInvalid),
        (lambda s: s.authenticate_presence_channel("1.2", "private-a", {"user_id": "1"}), InvalidName),
        (lambda s: s.authenticate_presence_channel("1.2", "presence-a", {"user_id": 1}), PublishInvalid),
        (lambda s: s.authenticate_presence_channel("1.2", "presence-a", {}), PublishInvalid),
        (lambda s: s.authenticate_user("1.2", {"id": 5}), PublishInvalid),
        (lambda s: s.authenticate_user("1.2", {"id": "a b"}), PublishInvalid),
        (lambda s: s.authenticate_user("x", {"id": "5"}), InvalidName),
    ],
)
def test_auth_refuses_bad_input(call, error: type[Exception]) -> None:
    with pytest.raises(error):
        call(service_with(Recorder()))
