"""The HTTP API: route a request, verify it, apply it to the app, answer as Pusher does.

Errors are plain text with Pusher's wording; success is always a JSON body, because the Python SDK
parses every 200 as JSON and raises on an empty one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from waxos.pusher_protocol.app import PusherApp
from waxos.pusher_protocol.errors import HttpError, excerpt
from waxos.pusher_protocol.http_auth import parse_query, verify_request
from waxos.pusher_protocol.limits import MAX_BATCH_EVENTS, MAX_CHANNELS_PER_TRIGGER, MAX_EVENT_NAME_LENGTH
from waxos.pusher_protocol.messages import dumps, loads
from waxos.pusher_protocol.names import (
    ChannelKind,
    ChannelName,
    InvalidName,
    is_valid_event_name,
    is_valid_socket_id,
    is_valid_user_id,
    parse_channel,
)

_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    ("POST", re.compile(r"\A/apps/(?P<app>[^/]+)/events\Z"), "events"),
    ("POST", re.compile(r"\A/apps/(?P<app>[^/]+)/batch_events\Z"), "batch"),
    ("GET", re.compile(r"\A/apps/(?P<app>[^/]+)/channels\Z"), "channels"),
    ("GET", re.compile(r"\A/apps/(?P<app>[^/]+)/channels/(?P<channel>[^/]+)\Z"), "channel"),
    ("GET", re.compile(r"\A/apps/(?P<app>[^/]+)/channels/(?P<channel>[^/]+)/users\Z"), "users"),
    (
        "POST",
        re.compile(r"\A/apps/(?P<app>[^/]+)/users/(?P<user>[^/]+)/terminate_connections\Z"),
        "terminate",
    ),
    # pusher-http-python 3.3.x posts here, without /apps/{id}; accepted so its
    # terminate_user_connections works against the local server.
    ("POST", re.compile(r"\A/users/(?P<user>[^/]+)/terminate_connections\Z"), "terminate"),
]


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """An HTTP request as received: the raw path and query string, the raw body bytes."""

    method: str
    path: str
    query: str
    body: bytes


@dataclass(frozen=True, slots=True)
class HttpResponse:
    """Status, content type and body to send back."""

    status: int
    body: bytes
    content_type: str

    @classmethod
    def json(cls, value: dict[str, Any]) -> HttpResponse:
        """A 200 with a JSON body."""
        return cls(200, dumps(value).encode(), "application/json")

    @classmethod
    def text(cls, status: int, message: str) -> HttpResponse:
        """An error with Pusher's plain-text reason."""
        return cls(status, f"{message}\n".encode(), "text/plain; charset=utf-8")


def handle_http(app: PusherApp, request: HttpRequest, now: float) -> HttpResponse:
    """Answer one HTTP API request; never raises for bad input."""
    try:
        return _handle(app, request, now)
    except HttpError as exc:
        return HttpResponse.text(exc.status, exc.message)


def _handle(app: PusherApp, request: HttpRequest, now: float) -> HttpResponse:
    # Routed on the decoded path, which the signature covers (`verify_request` accepts it signed raw or
    # decoded, and the raw form determines the decoded one): an encoded `/` cannot re-route a request.
    route, groups = _route(request.method, unquote(request.path))
    app_id = groups.get("app")
    if app_id is not None and app_id != app.config.app_id:
        raise HttpError(404, f"Unknown app id: {excerpt(app_id)}")
    params = parse_query(request.query)
    verify_request(app.config, request.method, request.path, params, request.body, now)
    if route == "events":
        return _events(app, _json_body(request.body), now)
    if route == "batch":
        return _batch(app, _json_body(request.body), now)
    if route == "channels":
        return _channels(app, params)
    if route == "terminate":
        user_id = groups["user"]
        if not is_valid_user_id(user_id):
            raise HttpError(400, f"Invalid user id: {excerpt(user_id)}")
        app.terminate_user(user_id, now)
        return HttpResponse.json({})
    name = groups["channel"]
    try:
        channel = parse_channel(name)
    except InvalidName as exc:
        raise HttpError(400, f"Invalid channel name: {excerpt(name)}") from exc
    if route == "users":
        if channel.kind is not ChannelKind.PRESENCE:
            raise HttpError(400, "Users can only be retrieved for presence channels")
        return HttpResponse.json({"users": [{"id": uid} for uid in app.hub.user_ids(name)]})
    return _channel(app, channel, params, now)


def _route(method: str, path: str) -> tuple[str, dict[str, str]]:
    allowed = False
    for route_method, pattern, route in _ROUTES:
        match = pattern.match(path)
        if match is None:
            continue
        if route_method == method:
            return route, match.groupdict()
        allowed = True
    if allowed:
        raise HttpError(405, f"Method {excerpt(method)} not allowed for {excerpt(path)}")
    raise HttpError(404, f"Not found: {excerpt(path)}")


def _json_body(body: bytes) -> dict[str, Any]:
    try:
        parsed = loads(body)
    except ValueError as exc:
        raise HttpError(400, "Request body is not valid JSON") from exc
    if not isinstance(parsed, dict):
        raise HttpError(400, "Request body must be a JSON object")
    return parsed


@dataclass(frozen=True, slots=True)
class _Event:
    name: str
    channels: list[str]
    data: str
    socket_id: str | None
    info: list[str]


def _parse_event(app: PusherApp, body: dict[str, Any], *, batch: bool) -> _Event:
    name = body.get("name")
    if not isinstance(name, str):
        raise HttpError(400, "Expected name parameter to be a string")
    if not is_valid_event_name(name):
        raise HttpError(400, f"Event name is too long (at most {MAX_EVENT_NAME_LENGTH} characters)")
    data = body.get("data")
    if not isinstance(data, str):
        raise HttpError(400, "Expected data parameter to be a string")
    if "channels" in body and not batch:
        channels = body["channels"]
    elif isinstance(body.get("channel"), str):
        channels = [body["channel"]]
    elif batch:
        raise HttpError(400, "Expected channel parameter to be a string")
    else:
        channels = None
    if not isinstance(channels, list) or not channels:
        raise HttpError(400, "Expected channels parameter to be a non-empty array of strings")
    if len(channels) > MAX_CHANNELS_PER_TRIGGER:
        raise HttpError(400, f"Too many channels: at most {MAX_CHANNELS_PER_TRIGGER} per event")
    parsed = []
    for raw in channels:
        try:
            parsed.append(parse_channel(raw))
        except InvalidName as exc:
            raise HttpError(400, f"Invalid channel name: {excerpt(raw)}") from exc
    encrypted = any(c.kind is ChannelKind.ENCRYPTED for c in parsed)
    if encrypted and len(channels) > 1:
        raise HttpError(400, "Cannot trigger to multiple channels when one is encrypted")
    socket_id = body.get("socket_id")
    if socket_id is not None and not is_valid_socket_id(socket_id):
        raise HttpError(400, f"Invalid socket_id: {excerpt(socket_id)}")
    info = body.get("info")
    if info is not None and not isinstance(info, str):
        raise HttpError(400, "Expected info parameter to be a comma-separated string")
    limit = app.config.max_data_bytes
    if len(data.encode()) > limit:
        raise HttpError(
            413,
            f"The data content of this event exceeds the allowed maximum ({limit} bytes). See "
            "https://pusher.com/docs/channels/server_api/http-api#publishing-events for more info",
        )
    return _Event(name, channels, data, socket_id, _attributes(info))


def _attributes(info: str | None) -> list[str]:
    return [part.strip() for part in (info or "").split(",") if part.strip()]


def _channel_attributes(app: PusherApp, name: str, info: list[str]) -> dict[str, int]:
    presence = name.startswith("presence-")
    attributes: dict[str, int] = {}
    if "user_count" in info and presence:
        attributes["user_count"] = app.hub.user_count(name)
    if "subscription_count" in info:
        attributes["subscription_count"] = app.hub.subscription_count(name)
    return attributes


def _events(app: PusherApp, body: dict[str, Any], now: float) -> HttpResponse:
    event = _parse_event(app, body, batch=False)
    app.publish(event.name, event.channels, event.data, event.socket_id, now)
    if not event.info:
        return HttpResponse.json({})
    channels = {name: _channel_attributes(app, name, event.info) for name in event.channels}
    return HttpResponse.json({"channels": channels})


def _batch(app: PusherApp, body: dict[str, Any], now: float) -> HttpResponse:
    batch = body.get("batch")
    if not isinstance(batch, list):
        raise HttpError(400, "Expected batch parameter to be an array of events")
    if len(batch) > MAX_BATCH_EVENTS:
        raise HttpError(400, f"Batch too large: at most {MAX_BATCH_EVENTS} events per request")
    items = [item if isinstance(item, dict) else {} for item in batch]
    # Every event is checked before any is published: a refused batch delivers nothing.
    events = [_parse_event(app, item, batch=True) for item in items]
    for event in events:
        app.publish(event.name, event.channels, event.data, event.socket_id, now)
    if not any(event.info for event in events):
        return HttpResponse.json({})
    return HttpResponse.json({"batch": [_channel_attributes(app, e.channels[0], e.info) for e in events]})


def _channels(app: PusherApp, params: dict[str, str]) -> HttpResponse:
    prefix = params.get("filter_by_prefix", "")
    info = _attributes(params.get("info"))
    if "user_count" in info and not prefix.startswith("presence-"):
        raise HttpError(
            400,
            "user_count may only be requested for presence channels - please supply "
            "filter_by_prefix beginning with presence-",
        )
    names = [name for name in app.hub.occupied_channels(prefix) if not name.startswith("#")]
    return HttpResponse.json({"channels": {name: _channel_attributes(app, name, info) for name in names}})


def _channel(app: PusherApp, channel: ChannelName, params: dict[str, str], now: float) -> HttpResponse:
    name = channel.name
    info = _attributes(params.get("info"))
    if "user_count" in info and channel.kind is not ChannelKind.PRESENCE:
        raise HttpError(400, "Cannot retrieve the user count unless the channel is a presence channel")
    if "cache" in info and not channel.cached:
        raise HttpError(400, "Cannot retrieve the cache unless the channel is a cache channel")
    result: dict[str, Any] = {"occupied": app.hub.subscription_count(name) > 0}
    result.update(_channel_attributes(app, name, info))
    if "cache" in info:
        entry = app.hub.cache_get(name, now)
        result["cache"] = (
            None
            if entry is None
            else {"event": entry.event, "data": entry.data, "ttl": int(entry.expires_at - now)}
        )
    return HttpResponse.json(result)
