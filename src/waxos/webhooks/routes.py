"""`POST /api/v1/pusher/webhooks`: Pusher's webhook deliveries, verified, then applied in one transaction."""

from __future__ import annotations

import time
from typing import Literal

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from waxos.api.openapi import emits
from waxos.config import Settings
from waxos.events import UserOnline
from waxos.metrics import ServiceMetrics
from waxos.webhooks.receiver import WebhookReceiver
from waxos.webhooks.verify import WebhookRefused, verify

router = APIRouter(prefix="/api/v1/pusher", tags=["pusher webhooks"])

# Pusher may batch many events into one delivery; 1 MiB is far above any real one.
MAX_WEBHOOK_BYTES = 1024 * 1024
# The event names Pusher sends; anything else is counted as "other" (a metric label per made-up name
# would let a sender with the secret grow the metrics without bound).
KNOWN_EVENTS = frozenset(
    {
        "channel_occupied",
        "channel_vacated",
        "member_added",
        "member_removed",
        "client_event",
        "cache_miss",
        "subscription_count",
    }
)


def webhook_secrets(settings: Settings) -> dict[str, str]:
    """Each configured provider's app key and secret: webhooks come from whichever provider is active."""
    secrets = {settings.pusher_key: settings.pusher_secret.get_secret_value()}
    if settings.secondary_configured:
        secondary = settings.for_secondary()
        secrets[secondary.pusher_key] = secondary.pusher_secret.get_secret_value()
    return secrets


class WebhookAck(BaseModel):
    """The delivery was applied (`accepted`), or had been already (`duplicate`: nothing changed)."""

    status: Literal["accepted", "duplicate"]
    events: int


@router.post(
    "/webhooks",
    summary="Receive Pusher webhooks (presence, occupancy, subscription counts, client events, cache misses)",
    responses={
        400: {"description": "correctly signed, but not a webhook body"},
        401: {
            "description": "a wrong key or signature (forged), or `time_ms` more than 5 minutes off (stale)"
        },
        413: {"description": "a body over 1 MiB"},
    },
    response_model=WebhookAck,
    openapi_extra={
        **emits(UserOnline),
        "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}},
    },
)
async def receive(request: Request) -> Response:
    """Verified against `X-Pusher-Key` and `X-Pusher-Signature` (HMAC-SHA256 of the raw body, with the
    secret of the provider, primary or secondary, whose key the delivery names), then
    applied: staff presence (`user.online` on `private-workspace-{id}.presence` when it changes), channel
    occupancy and subscription counts. A delivery already applied is answered 200 and changes nothing."""
    state = request.app.state
    metrics: ServiceMetrics = state.metrics
    settings: Settings = state.settings
    body = await request.body()
    try:
        delivery = verify(
            request.headers.get("x-pusher-key"),
            request.headers.get("x-pusher-signature"),
            body,
            secrets=webhook_secrets(settings),
            now_ms=int(time.time() * 1000),
        )
    except WebhookRefused as exc:
        metrics.webhook("-", exc.refusal.value)
        raise
    receiver: WebhookReceiver = state.webhooks
    verdict = await receiver.apply(delivery)
    for event in delivery.events:
        name = event.get("name")
        metrics.webhook(name if isinstance(name, str) and name in KNOWN_EVENTS else "other", verdict.value)
    # Written out rather than through the model: this answer goes out thousands of times a second.
    return Response(
        f'{{"status":"{verdict.value}","events":{len(delivery.events)}}}', media_type="application/json"
    )
