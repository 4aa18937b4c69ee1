"""HMAC-SHA256 signatures: channel auth, user sign-in, HTTP API requests and webhooks."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping


def hmac_hex(secret: str, message: str | bytes) -> str:
    """Lowercase hex HMAC-SHA256 of `message` under `secret`."""
    raw = message.encode() if isinstance(message, str) else message
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def same(expected: str, given: str) -> bool:
    """Constant-time string comparison, so a signature cannot be guessed byte by byte from timing."""
    return hmac.compare_digest(expected.encode(), given.encode())


def channel_string_to_sign(socket_id: str, channel: str, channel_data: str | None = None) -> str:
    """`socket_id:channel`, plus `:channel_data` (the exact string the client forwards) for presence."""
    if channel_data is None:
        return f"{socket_id}:{channel}"
    return f"{socket_id}:{channel}:{channel_data}"


def user_string_to_sign(socket_id: str, user_data: str) -> str:
    """`socket_id::user::user_data`: the `::user::` separator lives only here, never in `auth`."""
    return f"{socket_id}::user::{user_data}"


def sign_auth(key: str, secret: str, string_to_sign: str) -> str:
    """The `key:hex` value a client sends as `auth`."""
    return f"{key}:{hmac_hex(secret, string_to_sign)}"


def body_md5(body: bytes) -> str:
    """Lowercase hex MD5 of the raw body, as HTTP API clients send it in `body_md5`."""
    return hashlib.md5(body, usedforsecurity=False).hexdigest()


def canonical_query(params: Mapping[str, str]) -> str:
    """Lower-cased keys, sorted, joined `k=v` with `&` and, as Pusher signs them, not URL-escaped."""
    lowered = {name.lower(): value for name, value in params.items()}
    return "&".join(f"{name}={lowered[name]}" for name in sorted(lowered))


def request_string_to_sign(method: str, path: str, params: Mapping[str, str]) -> str:
    """`METHOD\\npath\\ncanonical-query`, over every parameter but `auth_signature`."""
    signed = {k: v for k, v in params.items() if k.lower() != "auth_signature"}
    return f"{method.upper()}\n{path}\n{canonical_query(signed)}"


def sign_request(secret: str, method: str, path: str, params: Mapping[str, str]) -> str:
    """The `auth_signature` for an HTTP API request."""
    return hmac_hex(secret, request_string_to_sign(method, path, params))


def sign_webhook(secret: str, body: bytes) -> str:
    """`X-Pusher-Signature`: the HMAC of the exact body bytes sent."""
    return hmac_hex(secret, body)
