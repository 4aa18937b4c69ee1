"""Verifying what clients present: channel subscription `auth` values and `pusher:signin` data."""

from __future__ import annotations

from waxos.pusher_protocol.config import AppConfig
from waxos.pusher_protocol.connection import SignedInUser
from waxos.pusher_protocol.errors import FrameError, excerpt
from waxos.pusher_protocol.messages import loads
from waxos.pusher_protocol.names import is_valid_user_id
from waxos.pusher_protocol.signing import hmac_hex, same, user_string_to_sign


def auth_problem(config: AppConfig, channel: str, auth: object, string_to_sign: str) -> str | None:
    """None when `auth` is `key:hmac(string_to_sign)`; otherwise the reason Pusher gives."""
    if not isinstance(auth, str) or auth.count(":") != 1:
        return f"Auth value for subscription to {channel} is invalid: should be of format 'key:signature'"
    key, signature = auth.split(":")
    if key != config.key:
        return f"Invalid key in subscription auth data: '{excerpt(key)}'"
    expected = hmac_hex(config.secret, string_to_sign)
    if not same(expected, signature):
        # Real Pusher names the exact string it signed: it is what a developer needs to debug auth (within
        # reason: a presence member's data is at most 1 KB).
        return (
            f"Invalid signature: Expected HMAC SHA256 hex digest of {excerpt(string_to_sign, 1_500)}, "
            f"but got {excerpt(signature)}"
        )
    return None


def verify_signin(config: AppConfig, socket_id: str, data: dict[str, object]) -> SignedInUser:
    """The user a `pusher:signin` proves, or `FrameError` with the reason."""
    user_data = data.get("user_data")
    if not isinstance(user_data, str):
        raise FrameError("Invalid signin: user_data must be a string")
    problem = auth_problem(config, "signin", data.get("auth"), user_string_to_sign(socket_id, user_data))
    if problem is not None:
        raise FrameError(problem)
    try:
        parsed = loads(user_data)
    except ValueError as exc:
        raise FrameError("Invalid signin: user_data is not JSON") from exc
    user_id = parsed.get("id") if isinstance(parsed, dict) else None
    if not isinstance(parsed, dict) or not isinstance(user_id, str) or not is_valid_user_id(user_id):
        raise FrameError("Invalid signin: user_data must have a non-empty string id")
    return SignedInUser(user_id=user_id, user_info=parsed.get("user_info"), user_data=user_data)
