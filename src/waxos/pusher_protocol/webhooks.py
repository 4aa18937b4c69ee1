"""Webhook events as values, and the signed request body that carries them."""

from __future__ import annotations

from dataclasses import dataclass

from waxos.pusher_protocol.messages import JsonValue, dumps
from waxos.pusher_protocol.signing import sign_webhook

WebhookEvent = dict[str, JsonValue]
"""One entry of a webhook's `events` list, e.g. `{"name": "channel_occupied", "channel": "c"}`."""


@dataclass(frozen=True, slots=True)
class WebhookRequest:
    """A webhook ready to POST: the exact body bytes and the headers signed over them."""

    body: bytes
    headers: dict[str, str]


def channel_occupied(channel: str) -> WebhookEvent:
    """The channel's first subscriber arrived."""
    return {"name": "channel_occupied", "channel": channel}


def channel_vacated(channel: str) -> WebhookEvent:
    """The channel's last subscriber left."""
    return {"name": "channel_vacated", "channel": channel}


def member_added(channel: str, user_id: str) -> WebhookEvent:
    """A user's first connection joined a presence channel."""
    return {"name": "member_added", "channel": channel, "user_id": user_id}


def member_removed(channel: str, user_id: str) -> WebhookEvent:
    """A user's last connection left a presence channel."""
    return {"name": "member_removed", "channel": channel, "user_id": user_id}


def subscription_count(channel: str, count: int) -> WebhookEvent:
    """A non-presence channel's number of subscriptions changed (subscription counting on)."""
    return {"name": "subscription_count", "channel": channel, "subscription_count": count}


def cache_miss(channel: str) -> WebhookEvent:
    """A client subscribed to a cache channel that held no event."""
    return {"name": "cache_miss", "channel": channel}


def client_event(
    channel: str, event: str, data: JsonValue, socket_id: str, user_id: str | None
) -> WebhookEvent:
    """A client event was relayed; `data` is always a string here, as Pusher sends it."""
    payload: WebhookEvent = {
        "name": "client_event",
        "channel": channel,
        "event": event,
        "data": data if isinstance(data, str) else dumps(data),
        "socket_id": socket_id,
    }
    if user_id is not None:
        payload["user_id"] = user_id
    return payload


def build_webhook(events: list[WebhookEvent], *, key: str, secret: str, time_ms: int) -> WebhookRequest:
    """Serialize once and sign those very bytes: a receiver verifies the raw body it got."""
    body = dumps({"time_ms": time_ms, "events": events}).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Pusher-Key": key,
        "X-Pusher-Signature": sign_webhook(secret, body),
    }
    return WebhookRequest(body=body, headers=headers)
