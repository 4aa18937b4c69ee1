"""Verifying a webhook delivery: the app key, the HMAC-SHA256 signature of the raw body, and freshness.

Hand-written rather than the SDK's `validate_webhook`, which answers None for every refusal (a forged
delivery must be told from a stale one: both are 401, but only one is an attack worth an alert), compares
the key in variable time, raises AttributeError for a signed body that is not a JSON object, and reads
the clock itself. The signature rule is the one the local server signs with (`sign_webhook`).
"""

from __future__ import annotations

import enum
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from waxos.pusher_protocol.signing import sign_webhook

# Pusher's own SDKs refuse deliveries whose `time_ms` is more than five minutes from now.
MAX_SKEW_MS = 300_000


class Refusal(enum.StrEnum):
    """Why a delivery was refused."""

    FORGED = "forged"  # missing headers, another app's key, or a signature that does not match
    STALE = "stale"  # correctly signed, but `time_ms` is too far from now: a replay, or a stuck queue
    MALFORMED = "malformed"  # correctly signed, but not the JSON object Pusher sends


class WebhookRefused(Exception):
    """A delivery that is not applied; `refusal` says why."""

    def __init__(self, refusal: Refusal, message: str) -> None:
        super().__init__(message)
        self.refusal = refusal


@dataclass(frozen=True, slots=True)
class Delivery:
    """A verified delivery: its signature (its identity), when Pusher made it, and its events."""

    signature: str
    time_ms: int
    events: list[dict[str, Any]]


def verify(
    key_header: str | None,
    signature_header: str | None,
    body: bytes,
    *,
    secrets: Mapping[str, str],
    now_ms: int,
) -> Delivery:
    """The delivery if the headers prove it is Pusher's and fresh, else `WebhookRefused`.

    `secrets` maps each configured app's key to its secret (the primary's, and the secondary's when one
    is configured): `X-Pusher-Key` names the app that signed, so a delivery from the secondary provider
    is checked with the secondary's secret, and no key outside `secrets` is accepted.
    """
    if not key_header or not signature_header:
        raise WebhookRefused(Refusal.FORGED, "X-Pusher-Key and X-Pusher-Signature are required")
    # Every configured key is compared, each in constant time; an unknown key is still signed with a
    # configured secret, so the answer's timing says nothing about which part was wrong.
    matched = [
        secret for key, secret in secrets.items() if hmac.compare_digest(key_header.encode(), key.encode())
    ]
    secret = matched[0] if matched else next(iter(secrets.values()))
    expected = sign_webhook(secret, body)
    signature_ok = hmac.compare_digest(signature_header.strip().lower().encode(), expected.encode())
    if not (matched and signature_ok):
        raise WebhookRefused(Refusal.FORGED, "the webhook signature does not match")
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise WebhookRefused(Refusal.MALFORMED, "the body is not JSON") from exc
    time_ms = parsed.get("time_ms") if isinstance(parsed, dict) else None
    events = parsed.get("events") if isinstance(parsed, dict) else None
    if isinstance(time_ms, bool) or not isinstance(time_ms, int) or not isinstance(events, list):
        raise WebhookRefused(Refusal.MALFORMED, "the body must be {time_ms: int, events: [...]}")
    if abs(now_ms - time_ms) > MAX_SKEW_MS:
        raise WebhookRefused(Refusal.STALE, "the delivery's time_ms is more than five minutes from now")
    return Delivery(expected, time_ms, [event for event in events if isinstance(event, dict)])
