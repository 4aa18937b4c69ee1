"""The `{event, channel, data}` envelope: parsing client frames and encoding server messages.

Server messages carry `data` as a JSON-encoded *string* (the double encoding pusher-js and every other
client SDK expect), except `pusher:error` and `pusher:signin_success`, which Pusher sends with object
`data`. Client frames carry `data` as an object, or as a string holding JSON in old clients.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from waxos.pusher_protocol.errors import FrameError
from waxos.pusher_protocol.limits import MAX_PRESENCE_USER_INFO_BYTES, MAX_USER_ID_LENGTH

JsonValue = Any
"""Whatever `json.loads` returns; client event payloads are relayed as the client sent them."""

MAX_JSON_DEPTH = 100
"""Deepest nesting of arrays and objects accepted from a client.

`json` recurses on the C stack: a frame nested about a thousand deep makes `json.loads` raise
`RecursionError`, and one just shallower parses but cannot be encoded again to relay it. No real
payload comes near this depth, so deeper documents are refused as invalid JSON.
"""


@dataclass(frozen=True, slots=True)
class ClientMessage:
    """One parsed client frame."""

    event: str
    channel: str | None
    data: JsonValue


@dataclass(frozen=True, slots=True)
class PresenceMember:
    """A presence channel member as the app's auth endpoint described it."""

    user_id: str
    user_info: JsonValue


def dumps(value: JsonValue) -> str:
    """Compact JSON, the form Pusher puts on the wire."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# A `\uD800`-`\uDFFF` escape: the only way a surrogate gets into text decoded from UTF-8.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def loads(text: str | bytes) -> JsonValue:
    """`json.loads` that raises `ValueError` for nesting beyond `MAX_JSON_DEPTH`, never `RecursionError`,
    and for a string holding an unpaired UTF-16 surrogate.

    `json` decodes `"\ud800"` into a lone surrogate, which no UTF-8 encoder accepts: relayed, it would
    fail only when written to another socket, far from the frame that carried it. Paired escapes (an
    emoji) decode to one code point and pass; a frame is re-checked only when it holds such an escape.
    """
    try:
        value = json.loads(text)
    except RecursionError as exc:
        raise ValueError("JSON nested too deeply") from exc
    if _deeper_than(value, MAX_JSON_DEPTH):
        raise ValueError("JSON nested too deeply")
    # Bytes (HTTP bodies, which json may decode as UTF-16 or UTF-32) are always re-checked.
    if isinstance(text, bytes) or _SURROGATE_ESCAPE.search(text) is not None:
        try:
            dumps(value).encode()
        except UnicodeEncodeError as exc:
            raise ValueError("JSON text holds an unpaired surrogate") from exc
    return value


def _deeper_than(value: JsonValue, limit: int) -> bool:
    """Whether arrays and objects nest more than `limit` levels; level by level, without recursion."""
    level = [value]
    depth = 0
    while level:
        containers = [item for item in level if isinstance(item, dict | list)]
        if not containers:
            return False
        depth += 1
        if depth > limit:
            return True
        level = [child for c in containers for child in (c.values() if isinstance(c, dict) else c)]
    return False


def parse_client_frame(text: str) -> ClientMessage:
    """Parse a client text frame, or raise `FrameError` with the answer Pusher gives."""
    try:
        raw = loads(text)
    except ValueError as exc:
        raise FrameError("Received invalid JSON") from exc
    if not isinstance(raw, dict):
        raise FrameError("Received invalid JSON")
    event = raw.get("event")
    if not isinstance(event, str) or not event:
        raise FrameError("Received message without an event name")
    channel = raw.get("channel")
    if channel is not None and not isinstance(channel, str):
        raise FrameError("Received message with an invalid channel")
    return ClientMessage(event=event, channel=channel, data=raw.get("data"))


def data_object(message: ClientMessage) -> dict[str, JsonValue]:
    """The `data` of a `pusher:` frame as an object; old clients send it JSON-encoded in a string."""
    data = message.data
    if isinstance(data, str):
        try:
            data = loads(data)
        except ValueError as exc:
            raise FrameError(f"Invalid data for {message.event}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise FrameError(f"Invalid data for {message.event}")
    return data


def parse_channel_data(channel_data: str) -> PresenceMember | None:
    """The member in a presence `channel_data` string, or None when it names no user."""
    try:
        raw = loads(channel_data)
    except ValueError:
        return None
    if not isinstance(raw, dict):
        return None
    user_id = raw.get("user_id")
    # pusher-js's own example sends a numeric id; Pusher keys members by its string form.
    if isinstance(user_id, bool) or not isinstance(user_id, str | int) or user_id == "":
        return None
    return PresenceMember(user_id=str(user_id), user_info=raw.get("user_info"))


def connection_established(socket_id: str, activity_timeout: int) -> str:
    """The first message; pusher-js refuses the connection without `activity_timeout`."""
    data = dumps({"socket_id": socket_id, "activity_timeout": activity_timeout})
    return dumps({"event": "pusher:connection_established", "data": data})


def error(message: str, code: int | None = None) -> str:
    """`pusher:error` with object data; `code` is null for errors that keep the connection."""
    return dumps({"event": "pusher:error", "data": {"code": code, "message": message}})


def ping() -> str:
    """A server ping, which the client must answer with `pusher:pong`."""
    return '{"event":"pusher:ping","data":"{}"}'


def pong() -> str:
    """The reply to a client ping."""
    return '{"event":"pusher:pong","data":"{}"}'


def subscription_succeeded(channel: str, presence: dict[str, JsonValue] | None = None) -> str:
    """`pusher_internal:subscription_succeeded`; presence channels carry ids, hash and count."""
    data = "{}" if presence is None else dumps({"presence": presence})
    return dumps({"event": "pusher_internal:subscription_succeeded", "channel": channel, "data": data})


def subscription_error(channel: str, error_text: str, status: int) -> str:
    """`pusher:subscription_error`, which pusher-js routes to the channel's error listeners."""
    data = {"type": "AuthError", "error": error_text, "status": status}
    return dumps({"event": "pusher:subscription_error", "channel": channel, "data": data})


def member_added(channel: str, member: PresenceMember) -> str:
    """Sent to the other subscribers when a user's first connection joins."""
    data = {"user_id": member.user_id, "user_info": member.user_info}
    return dumps({"event": "pusher_internal:member_added", "channel": channel, "data": dumps(data)})


def member_removed(channel: str, user_id: str) -> str:
    """Sent to the remaining subscribers when a user's last connection leaves."""
    data = dumps({"user_id": user_id})
    return dumps({"event": "pusher_internal:member_removed", "channel": channel, "data": data})


def channel_event(event: str, channel: str, data: JsonValue, user_id: str | None = None) -> str:
    """An event on a channel; `data` is forwarded unchanged (a string from the HTTP API)."""
    message: dict[str, JsonValue] = {"event": event, "channel": channel, "data": data}
    if user_id is not None:
        message["user_id"] = user_id
    return dumps(message)


def subscription_count(channel: str, count: int) -> str:
    """`pusher_internal:subscription_count`: how many connections a non-presence channel has."""
    data = dumps({"subscription_count": count})
    return dumps({"event": "pusher_internal:subscription_count", "channel": channel, "data": data})


def presence_member_problem(member: PresenceMember) -> str | None:
    """Why Pusher would refuse this presence member (its documented limits), or None."""
    if len(member.user_id) > MAX_USER_ID_LENGTH:
        return f"Presence user_id is longer than {MAX_USER_ID_LENGTH} characters"
    if len(dumps(member.user_info).encode()) > MAX_PRESENCE_USER_INFO_BYTES:
        return f"Presence user_info is larger than {MAX_PRESENCE_USER_INFO_BYTES} bytes"
    return None


def signin_success(user_data: str) -> str:
    """`pusher:signin_success` with the exact `user_data` string that was signed."""
    return dumps({"event": "pusher:signin_success", "data": {"user_data": user_data}})


def cache_miss(channel: str) -> str:
    """Sent after subscription_succeeded on a cache channel that holds no event."""
    return dumps({"event": "pusher:cache_miss", "channel": channel})
