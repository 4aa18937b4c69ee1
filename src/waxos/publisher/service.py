"""PusherService: publishes to Pusher Channels through the official SDK and signs channel auth.

One instance per process, built in the app's lifespan and closed there. Invalid input raises
`PublishInvalid` before any HTTP; a transport or server failure never raises into the caller: it is logged
once with context and returned as a failed `PusherResult`.

Only the relay publishes; features emit events through the event log (decision D2).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pusher
from pusher.crypto import encrypt, parse_master_key
from pusher.http import POST, Request

from waxos.channels.names import validate_channel_name, validate_event_name, validate_socket_id
from waxos.config import Settings
from waxos.publisher.metrics import PublishMetrics
from waxos.publisher.results import (
    BatchResult,
    FailureKind,
    PusherResult,
    combined,
    from_response,
    from_transport_error,
)
from waxos.publisher.transport import AiohttpTransport, RawResponse, SdkBackend, TransportError
from waxos.pusher_protocol.limits import (
    MAX_BATCH_EVENTS,
    MAX_CHANNELS_PER_TRIGGER,
    MAX_DATA_BYTES,
    MAX_USER_ID_LENGTH,
)
from waxos.pusher_protocol.names import ChannelKind, ChannelName, InvalidName, is_valid_user_id, parse_channel

logger = logging.getLogger(__name__)

BATCH_CONCURRENCY = 4
# A channel whose events are sealed end to end: told apart by prefix alone on the trusted send path.
_SEALED_PREFIX = f"{ChannelKind.ENCRYPTED.value}-"


class PublishInvalid(ValueError):
    """The caller's input breaks a Pusher rule; `rule` says which. Nothing was sent."""

    def __init__(self, rule: str) -> None:
        self.rule = rule
        super().__init__(rule)


class EncryptionNotConfigured(PublishInvalid):
    """An encrypted channel, but no PUSHER_ENCRYPTION_MASTER_KEY_BASE64: the configuration, not the input.

    `channel` names the channel that could not be sealed, when a send was refused for it.
    """

    def __init__(self, channel: str | None = None) -> None:
        self.channel = channel
        super().__init__("encrypted channels need PUSHER_ENCRYPTION_MASTER_KEY_BASE64")


@dataclass(frozen=True, slots=True)
class OutgoingEvent:
    """A caller's event for `trigger_batch`: one channel, a `resource.action` name, JSON-able data."""

    channel: str
    name: str
    data: Any
    socket_id: str | None = None


@dataclass(frozen=True, slots=True)
class EncodedEvent:
    """One event that already satisfies Pusher's rules, with `data` as the string Pusher receives.

    `send_batch` checks none of it: the caller did. For a `private-encrypted-` channel `data` is the
    plaintext, sealed at send time; its sealed size is the caller's to check (emit does).
    """

    channel: str
    name: str
    data: str
    socket_id: str | None = None


class PusherService:
    """The one publisher of the process: trigger, batch, read calls, and auth signatures."""

    def __init__(self, settings: Settings, metrics: PublishMetrics | None = None) -> None:
        self._settings = settings
        self._transport = AiohttpTransport()
        master_key_b64 = settings.pusher_encryption_master_key_base64
        self._master_key: bytes | None = parse_master_key(
            None, master_key_b64.get_secret_value() if master_key_b64 else None
        )
        self._metrics = metrics or PublishMetrics()
        # The SDK signs requests and auth tokens; our transport carries the bytes (see transport.py).
        self._sdk = pusher.Pusher(
            app_id=settings.pusher_app_id,
            key=settings.pusher_key,
            secret=settings.pusher_secret.get_secret_value(),
            cluster=settings.pusher_cluster,
            host=settings.pusher_api_host,
            port=settings.pusher_api_port,
            ssl=settings.pusher_use_tls,
            timeout=settings.pusher_timeout_seconds,
            encryption_master_key_base64=master_key_b64.get_secret_value() if master_key_b64 else None,
            backend=SdkBackend,
            transport=self._transport,
            deadline_seconds=settings.pusher_timeout_seconds,
        )
        # The SDK's client signs the requests we build ourselves (batches, terminate connections).
        self._client = self._sdk._pusher_client
        self._batch_path = f"/apps/{settings.pusher_app_id}/batch_events"

    @property
    def settings(self) -> Settings:
        """The settings this publisher was built from."""
        return self._settings

    @property
    def metrics(self) -> PublishMetrics:
        """Counters and histograms of this publisher."""
        return self._metrics

    async def aclose(self) -> None:
        """Close the pooled HTTP connections."""
        await self._transport.aclose()

    # Publishing

    async def trigger(
        self, channels: str | Sequence[str], event: str, data: Any, socket_id: str | None = None
    ) -> PusherResult:
        """Publish one event to any number of channels; invalid input raises `PublishInvalid`.

        Pusher takes at most 100 channels per request, so more are sent as requests of 100 (as Laravel's
        broadcaster does), a few at a time; the result is a failure if any request failed, naming how many.
        """
        names = [channels] if isinstance(channels, str) else list(channels)
        _check_channels(names, self._master_key is not None)
        _check_event(event)
        if socket_id is not None:
            _check_socket_id(socket_id)
        if parse_channel(names[0]).kind is ChannelKind.ENCRYPTED:
            # Encrypted payloads are sealed by us (the SDK would check the size before sealing).
            batch = await self.trigger_batch([OutgoingEvent(names[0], event, data, socket_id)])
            return batch.chunks[0]
        # A string is forwarded as-is by the SDK, whose own size check (memory size, not bytes)
        # never fires before ours.
        encoded = _encode_data(data)
        limit = asyncio.Semaphore(BATCH_CONCURRENCY)

        async def send(chunk: list[str]) -> PusherResult:
            description = f"trigger {event} to {', '.join(chunk[:3])}{' …' if len(chunk) > 3 else ''}"
            async with limit:
                return await self._call(
                    description,
                    lambda: self._sdk.trigger(chunk, event, encoded, socket_id),
                    events=1,
                    publish=True,
                )

        chunks = [
            names[i : i + MAX_CHANNELS_PER_TRIGGER] for i in range(0, len(names), MAX_CHANNELS_PER_TRIGGER)
        ]
        return combined(await asyncio.gather(*(send(chunk) for chunk in chunks)))

    async def trigger_batch(self, events: Iterable[OutgoingEvent]) -> BatchResult:
        """Publish any number of events in requests of at most 10, a few requests at a time.

        The whole batch is validated first; one invalid event raises `PublishInvalid` and sends nothing.
        Requests run concurrently, so only events of one request keep their relative order; a caller
        that needs per-channel order across requests (the relay) sends one request at a time per channel.
        """
        encoded = [self._checked(event) for event in events]
        limit = asyncio.Semaphore(BATCH_CONCURRENCY)

        async def send(chunk: Sequence[EncodedEvent]) -> PusherResult:
            async with limit:
                return await self.send_batch(chunk)

        chunks = [encoded[i : i + MAX_BATCH_EVENTS] for i in range(0, len(encoded), MAX_BATCH_EVENTS)]
        return BatchResult(tuple(await asyncio.gather(*(send(chunk) for chunk in chunks))))

    async def send_batch(
        self, events: Sequence[EncodedEvent], time_limit: float | None = None
    ) -> PusherResult:
        """Send 1-10 events that already satisfy Pusher's rules in one request; nothing is checked again.

        The relay sends the envelopes `emit` validated this way; `trigger_batch` checks its caller's events
        first. Raises `EncryptionNotConfigured` (naming the channel) when an event is for an encrypted
        channel and no master key is configured; nothing is sent then. `time_limit` bounds the request
        (default: the configured Pusher timeout).
        """
        if not 1 <= len(events) <= MAX_BATCH_EVENTS:
            raise ValueError(f"a request carries 1-{MAX_BATCH_EVENTS} events, not {len(events)}")
        batch = [self._wire(event) for event in events]
        request = Request(self._client, POST, self._batch_path, {"batch": batch})
        first = events[0]
        self._metrics.batch_size.observe(len(batch))
        return await self._call(
            f"batch of {len(batch)} ({first.name} to {first.channel} …)",
            lambda: self._transport.send(request, time_limit or self._settings.pusher_timeout_seconds),
            events=len(batch),
            publish=True,
        )

    def _checked(self, event: OutgoingEvent) -> EncodedEvent:
        """A caller's event validated against Pusher's rules and encoded, its sealed size checked."""
        _check_channels([event.channel], self._master_key is not None)
        _check_event(event.name)
        socket_id = None if event.socket_id is None else _check_socket_id(event.socket_id)
        data = _encode_data(event.data)
        if parse_channel(event.channel).kind is ChannelKind.ENCRYPTED:
            _check_size(self._seal(event.channel, data), "encrypted data")
        return EncodedEvent(event.channel, event.name, data, socket_id)

    def _wire(self, event: EncodedEvent) -> dict[str, str]:
        """One item of a batch request body, sealed for an encrypted channel."""
        data = event.data
        if event.channel.startswith(_SEALED_PREFIX):
            if self._master_key is None:
                raise EncryptionNotConfigured(event.channel)
            data = self._seal(event.channel, data)
        item = {"channel": event.channel, "name": event.name, "data": data}
        if event.socket_id is not None:
            item["socket_id"] = event.socket_id
        return item

    def _seal(self, channel: str, data: str) -> str:
        """`data` end-to-end encrypted for `channel`, as the JSON string Pusher carries."""
        return json.dumps(encrypt(channel, data, self._master_key), ensure_ascii=False)

    # Reads and user management

    async def channels_info(self, prefix: str | None = None, attributes: Sequence[str] = ()) -> PusherResult:
        """`GET /apps/{id}/channels`: occupied channels, optionally by prefix, with `info` attributes."""
        return await self._call("channels_info", lambda: self._sdk.channels_info(prefix, list(attributes)))

    async def channel_info(self, channel: str, attributes: Sequence[str] = ()) -> PusherResult:
        """`GET /apps/{id}/channels/{channel}`."""
        _check_channels([channel], True)
        return await self._call(
            f"channel_info {channel}", lambda: self._sdk.channel_info(channel, list(attributes))
        )

    async def users_info(self, channel: str) -> PusherResult:
        """`GET /apps/{id}/channels/{channel}/users` for a presence channel."""
        _check_channels([channel], True)
        return await self._call(f"users_info {channel}", lambda: self._sdk.users_info(channel))

    async def terminate_user_connections(self, user_id: str) -> PusherResult:
        """Disconnect every connection signed in as `user_id`.

        Built by hand: the SDK posts to `/users/{id}/...` without the `/apps/{app_id}` prefix.
        """
        _check_user_id(user_id)
        path = f"/apps/{self._settings.pusher_app_id}/users/{user_id}/terminate_connections"
        request = Request(self._client, POST, path, {})
        return await self._call(
            f"terminate_user_connections {user_id}",
            lambda: self._transport.send(request, self._settings.pusher_timeout_seconds),
        )

    # Auth signatures (pure CPU; synchronous)

    def authenticate_private_channel(self, socket_id: str, channel: str | ChannelName) -> dict[str, str]:
        """The auth JSON for a `private-` or `private-encrypted-` channel (a string is validated first)."""
        validate_socket_id(socket_id)
        parsed = _parsed(channel)
        if parsed.kind not in (ChannelKind.PRIVATE, ChannelKind.ENCRYPTED):
            raise InvalidName("channel name", "must start with private- for private channel auth")
        if parsed.kind is ChannelKind.ENCRYPTED and self._master_key is None:
            raise EncryptionNotConfigured()
        return _as_text(self._sdk.authenticate(channel=parsed.name, socket_id=socket_id))

    def authenticate_presence_channel(
        self, socket_id: str, channel: str | ChannelName, user_data: Mapping[str, Any]
    ) -> dict[str, str]:
        """The auth JSON for a `presence-` channel; `user_data` needs a string `user_id`."""
        validate_socket_id(socket_id)
        parsed = _parsed(channel)
        if parsed.kind is not ChannelKind.PRESENCE:
            raise InvalidName("channel name", "must start with presence- for presence auth")
        user_id = user_data.get("user_id")
        if not isinstance(user_id, str) or not user_id:
            raise PublishInvalid("presence user_data needs a non-empty string user_id")
        return _as_text(
            self._sdk.authenticate(channel=parsed.name, socket_id=socket_id, custom_data=dict(user_data))
        )

    def authenticate_user(self, socket_id: str, user_data: Mapping[str, Any]) -> dict[str, str]:
        """The sign-in JSON (`pusher:signin`); `user_data` needs a string `id`."""
        validate_socket_id(socket_id)
        user_id = user_data.get("id")
        if not isinstance(user_id, str):
            raise PublishInvalid("user_data needs a string id")
        _check_user_id(user_id)
        return _as_text(self._sdk.authenticate_user(socket_id, dict(user_data)))

    # The one place a call's outcome is classified, logged and counted

    async def _call(
        self,
        description: str,
        send: Callable[[], Awaitable[RawResponse]],
        events: int = 0,
        publish: bool = False,
    ) -> PusherResult:
        started = time.perf_counter()
        try:
            response = await send()
        except TransportError as exc:
            result = from_transport_error(exc, _ms_since(started), events)
        else:
            result = from_response(response, _ms_since(started), events)
        self._metrics.observe_call(result, publish=publish)
        if result.ok:
            logger.debug("pusher %s: ok in %.1f ms", description, result.duration_ms)
        elif result.failure is FailureKind.RATE_LIMITED:
            logger.warning(
                "pusher %s: rate limited (HTTP 429, retry after %s s)",
                description,
                result.retry_after_seconds,
            )
        else:
            logger.error(
                "pusher %s: %s (status %s) after %.1f ms: %s",
                description,
                result.failure,
                result.status,
                result.duration_ms,
                result.reason,
            )
        return result


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _as_text(payload: dict[str, Any]) -> dict[str, str]:
    """The SDK returns `shared_secret` as bytes; pusher-js needs a base64 string."""
    return {
        key: value.decode("ascii") if isinstance(value, bytes) else str(value)
        for key, value in payload.items()
    }


def _encode_data(data: Any) -> str:
    if isinstance(data, str):
        encoded = data
    else:
        try:
            encoded = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise PublishInvalid(f"data must be JSON-serialisable: {exc}") from exc
    _check_size(encoded, "data")
    return encoded


def _check_size(encoded: str, what: str) -> None:
    size = len(encoded.encode("utf-8"))
    if size > MAX_DATA_BYTES:
        raise PublishInvalid(f"{what} is {size} bytes once JSON-encoded; at most {MAX_DATA_BYTES}")


def _check_channels(channels: list[str], encryption_enabled: bool) -> None:
    if not channels:
        raise PublishInvalid("at least one channel is required")
    if len(set(channels)) != len(channels):
        raise PublishInvalid("channels must be distinct")
    for channel in channels:
        try:
            validate_channel_name(channel)
        except InvalidName as exc:
            raise PublishInvalid(f"{exc} ({channel[:40]!r})") from exc
    encrypted = [c for c in channels if parse_channel(c).kind is ChannelKind.ENCRYPTED]
    if encrypted and len(channels) > 1:
        raise PublishInvalid("an encrypted channel must be triggered alone")
    if encrypted and not encryption_enabled:
        raise EncryptionNotConfigured()


def _check_event(event: str) -> None:
    try:
        validate_event_name(event)
    except InvalidName as exc:
        raise PublishInvalid(f"{exc} ({str(event)[:40]!r})") from exc


def _check_socket_id(socket_id: str) -> str:
    try:
        return validate_socket_id(socket_id)
    except InvalidName as exc:
        raise PublishInvalid(str(exc)) from exc


def _parsed(channel: str | ChannelName) -> ChannelName:
    """A channel the auth path already parsed (the API validates once), or a caller's string, validated."""
    return channel if isinstance(channel, ChannelName) else validate_channel_name(channel)


def _check_user_id(user_id: str) -> None:
    if not is_valid_user_id(user_id):
        raise PublishInvalid(
            f"user id must be 1-{MAX_USER_ID_LENGTH} characters of letters, digits and -_=@,.;"
        )
