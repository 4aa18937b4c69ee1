"""Pusher auth endpoints: sign a subscription or a sign-in for the bearer token's user, if the policy allows.

pusher-js posts form-encoded `socket_id` and `channel_name`; JSON bodies are accepted too. Any status
but 200 reaches the browser as `pusher:subscription_error` with that status.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from waxos.api.current_user import BearerDep, staff_lookup, token_from
from waxos.api.errors import ApiError
from waxos.auth.errors import NotAuthenticated
from waxos.auth.lookup import StaffLookup
from waxos.auth.tokens import AccessToken
from waxos.channels.names import validate_channel_name, validate_socket_id
from waxos.channels.policy import USER_GONE, Allowed, Decision, Denied, authorize_token, signed_in_user
from waxos.config import Settings
from waxos.metrics import ServiceMetrics
from waxos.publisher.service import PusherService
from waxos.pusher_protocol.limits import MAX_CHANNEL_NAME_LENGTH
from waxos.pusher_protocol.names import NAME_CHARSET, SOCKET_ID, ChannelKind, ChannelName

logger = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/pusher", tags=["pusher auth"])

# A socket id and a channel name are under 200 bytes; pusher-js may add a few custom params.
MAX_BODY_BYTES = 4096
_FORM = "application/x-www-form-urlencoded"
_JSON = "application/json"


class AuthSignature(BaseModel):
    """The JSON pusher-js expects: `auth`, plus `channel_data` (presence) or `shared_secret` (encrypted)."""

    auth: str
    channel_data: str | None = None
    shared_secret: str | None = None


class SignInSignature(BaseModel):
    """The JSON pusher-js expects from sign-in: `auth` and the signed `user_data`."""

    auth: str
    user_data: str


@dataclass(frozen=True, slots=True)
class Caller:
    """What an auth request needs: the token's user and the app's lookup, signer, settings, metrics."""

    token: AccessToken
    lookup: StaffLookup
    pusher: PusherService
    settings: Settings
    metrics: ServiceMetrics


async def get_caller(request: Request, credentials: BearerDep) -> Caller:
    """One dependency for the whole endpoint, read straight from the app's state.

    These endpoints run for every subscription of every browser. Each FastAPI dependency costs time to
    resolve, and a synchronous one a thread hop (`bench/auth.py` measures the path), so the path resolves
    just this one (and the bearer scheme, which documents the security requirement).
    """
    state = request.app.state
    settings: Settings = state.settings
    token = token_from(credentials, settings)
    # Signed for the active provider: the one the client's pusher-js connects to (see providers/registry.py).
    signer = await state.providers.active_service()
    return Caller(token, staff_lookup(state), signer, settings, state.metrics)


CallerDep = Annotated[Caller, Depends(get_caller)]


# The fields are read by hand (form or JSON), so their documentation is written here: the rules
# `validate_socket_id` and `validate_channel_name` apply.
_FIELDS: dict[str, dict[str, Any]] = {
    "socket_id": {"type": "string", "pattern": f"^{SOCKET_ID.pattern}$"},
    "channel_name": {
        "type": "string",
        "pattern": f"^{NAME_CHARSET.pattern}$",
        "maxLength": MAX_CHANNEL_NAME_LENGTH,
    },
}


def _body_doc(*fields: str) -> dict[str, Any]:
    schema = {
        "type": "object",
        "required": list(fields),
        "properties": {field: _FIELDS[field] for field in fields},
    }
    return {
        "requestBody": {
            "required": True,
            "content": {_FORM: {"schema": schema}, _JSON: {"schema": schema}},
        }
    }


_CHANNEL_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "malformed socket id or channel name, or a missing field"},
    401: {"description": "no valid access token"},
    403: {"description": "the channel policy denies this channel; the reason is in the body"},
    413: {"description": "body larger than 4 KiB"},
    415: {"description": "body neither form-encoded nor JSON"},
}


@router.post(
    "/auth",
    summary="Authorize a private, encrypted or presence channel subscription",
    response_model_exclude_none=True,
    responses=_CHANNEL_ERRORS,
    openapi_extra=_body_doc("socket_id", "channel_name"),
)
async def channel_auth(request: Request, caller: CallerDep) -> AuthSignature:
    """pusher-js's single channel authorization endpoint, for every kind of channel that needs one."""
    socket_id, channel = await _read_subscription(request)
    return _sign(await _decide(caller, channel, "auth"), socket_id, caller)


@router.post(
    "/presence-auth",
    summary="Authorize a presence channel subscription",
    response_model_exclude_none=True,
    responses=_CHANNEL_ERRORS,
    openapi_extra=_body_doc("socket_id", "channel_name"),
)
async def presence_auth(request: Request, caller: CallerDep) -> AuthSignature:
    """Like `/auth`, for presence channels only; `channel_data` is the user's record, never the request's."""
    socket_id, channel = await _read_subscription(request)
    if channel.kind is not ChannelKind.PRESENCE:
        raise ApiError(400, "not_presence", "this endpoint authorizes presence- channels only")
    return _sign(await _decide(caller, channel, "presence-auth"), socket_id, caller)


@router.post(
    "/user-auth",
    summary="Sign the user in to Pusher (pusher-js `signin()`)",
    responses={k: v for k, v in _CHANNEL_ERRORS.items() if k != 403},
    openapi_extra=_body_doc("socket_id"),
)
async def user_auth(request: Request, caller: CallerDep) -> SignInSignature:
    """The signed `user_data` for `pusher:signin`, built from the user's record."""
    fields = await _read_fields(request)
    socket_id = validate_socket_id(_field(fields, "socket_id"))
    standing = await caller.lookup.standing_of(caller.token, None)
    if standing is None:
        raise NotAuthenticated(USER_GONE)
    logger.debug("pusher sign-in signed: user=%d", caller.token.user_id)
    signed = caller.pusher.authenticate_user(socket_id, signed_in_user(standing.user))
    return SignInSignature.model_validate(signed)


async def _decide(caller: Caller, channel: ChannelName, endpoint: str) -> Decision:
    try:
        decision = await authorize_token(caller.lookup, caller.token, channel)
    except NotAuthenticated:  # the token's user is gone: 401
        caller.metrics.user_gone(endpoint)
        raise
    caller.metrics.decided(endpoint, decision)
    return decision


def _sign(decision: Decision, socket_id: str, caller: Caller) -> AuthSignature:
    if isinstance(decision, Denied):
        raise ApiError(403, "channel_denied", decision.reason, channel=decision.channel.name)
    return AuthSignature.model_validate(_signature(decision, socket_id, caller.pusher, caller.settings))


def _signature(
    decision: Allowed, socket_id: str, pusher: PusherService, settings: Settings
) -> dict[str, str]:
    channel = decision.channel.channel
    if decision.presence is not None:
        return pusher.authenticate_presence_channel(socket_id, channel, decision.presence)
    refuse_unless_encryption_enabled(channel, settings)
    return pusher.authenticate_private_channel(socket_id, channel)


ENCRYPTION_DISABLED = "encrypted channels are not enabled on this server"


def encryption_disabled(channel: ChannelName, settings: Settings) -> bool:
    """True for a `private-encrypted-` channel on a server without a master key.

    Without the key there is no shared secret to subscribe with, and catch-up must not serve in plaintext
    what such a channel would carry sealed. Asked after the policy allowed the channel, so a non-member
    learns nothing from it.
    """
    return channel.kind is ChannelKind.ENCRYPTED and settings.pusher_encryption_master_key_base64 is None


def refuse_unless_encryption_enabled(channel: ChannelName, settings: Settings) -> None:
    """400 `encryption_disabled` when `encryption_disabled(channel, settings)`."""
    if encryption_disabled(channel, settings):
        raise ApiError(400, "encryption_disabled", ENCRYPTION_DISABLED)


async def _read_subscription(request: Request) -> tuple[str, ChannelName]:
    """The validated `socket_id` and parsed `channel_name` of a subscription authorization request.

    The channel name is validated here, once: the policy and the signer take the parsed name as it is.
    """
    fields = await _read_fields(request)
    return validate_socket_id(_field(fields, "socket_id")), validate_channel_name(
        _field(fields, "channel_name")
    )


async def _read_fields(request: Request) -> Mapping[str, object]:
    """The body's fields, form-encoded or JSON, refusing bodies over `MAX_BODY_BYTES` without reading on."""
    declared = request.headers.get("content-length", "")
    # ASCII digits only (`isdigit` accepts '²', which `int` refuses); too many of them is too large.
    if declared.isascii() and declared.isdigit() and (len(declared) > 9 or int(declared) > MAX_BODY_BYTES):
        raise _too_large()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise _too_large()
    media_type = request.headers.get("content-type", _FORM).partition(";")[0].strip().lower()
    if media_type == _JSON:
        try:
            fields = json.loads(body)
        except (ValueError, RecursionError) as exc:  # RecursionError: nesting deeper than Python's stack
            raise ApiError(400, "invalid_request", "the body is not valid JSON") from exc
        if not isinstance(fields, dict):
            raise ApiError(400, "invalid_request", "the JSON body must be an object")
        return fields
    if media_type == _FORM:
        try:
            return dict(parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=False))
        except UnicodeDecodeError as exc:
            raise ApiError(400, "invalid_request", "the form body is not UTF-8") from exc
    raise ApiError(415, "unsupported_media_type", f"send {_FORM} or {_JSON}")


def _field(fields: Mapping[str, object], name: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str) or not value:
        raise ApiError(400, "invalid_request", f"{name} is required", field=name)
    return value


def _too_large() -> ApiError:
    return ApiError(413, "too_large", f"the body must be at most {MAX_BODY_BYTES} bytes")
