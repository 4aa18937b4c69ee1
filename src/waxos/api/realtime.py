"""Real-time routes for clients: their pusher-js configuration, and catch-up of one or many channels.

Every answer carries the active provider's `epoch` (D7): a client that sees a higher one than it knows
reconnects pusher-js to the provider `GET /config` now describes.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from waxos.api.current_user import CurrentUserDep
from waxos.api.deps import MetricsDep, ReadSessionDep, SettingsDep
from waxos.api.errors import EPOCH_HEADER, ApiError
from waxos.api.pusher_auth import ENCRYPTION_DISABLED, encryption_disabled, refuse_unless_encryption_enabled
from waxos.channels.policy import Denied, authorize_channel, authorize_channels
from waxos.events import Envelope
from waxos.events.catchup import (
    DEFAULT_LIMIT,
    MAX_CHANNELS,
    MAX_LIMIT,
    CatchUpPage,
    ResyncRequired,
    read_after,
    read_many,
)
from waxos.providers.state import NOTICE_CHANNEL, Provider, current_epoch, read_active
from waxos.pusher_protocol.limits import MAX_CHANNEL_NAME_LENGTH
from waxos.text import SingleLineText

router = APIRouter(prefix="/api/v1/realtime", tags=["realtime"])

CHANNEL_AUTH_PATH = "/api/v1/pusher/auth"
USER_AUTH_PATH = "/api/v1/pusher/user-auth"
CATCH_UP_PATH = "/api/v1/realtime/catch-up"


class ClientConfig(BaseModel):
    """What pusher-js needs to connect to the active provider, and where the client's endpoints are."""

    provider: Provider = Field(description="The active provider: `primary` or `secondary`")
    epoch: int = Field(description="Bumped by every provider switch; compare with catch-up answers")
    key: str = Field(description="The app key pusher-js connects with")
    cluster: str = Field(description="pusher-js `cluster` (used when `ws_host` is null)")
    ws_host: str | None = Field(description="pusher-js `wsHost`, for a self-hosted provider; else null")
    ws_port: int | None = Field(description="pusher-js `wsPort`/`wssPort`, with `ws_host`")
    force_tls: bool = Field(description="pusher-js `forceTLS`")
    channel_auth_endpoint: str = Field(description="pusher-js `channelAuthorization.endpoint`")
    user_auth_endpoint: str = Field(description="pusher-js `userAuthentication.endpoint` (sign-in)")
    catch_up_endpoint: str = Field(description="Multi-channel catch-up (polling) endpoint")
    notice_channel: str = Field(description="Public channel announcing provider switches")
    user_id: int = Field(description="The signed-in user's id (their `private-user-{id}` channel)")


class CatchUp(BaseModel):
    """A page of a channel's events after a position."""

    channel: str
    events: list[Envelope] = Field(description="Envelopes in `seq` order, starting at `after + 1`")
    next_after: int = Field(description="Pass as `after` for the next page (the last `seq` returned)")
    head: int = Field(description="The channel's latest `seq`; more pages exist while `next_after < head`")
    epoch: int = Field(description="The active provider's epoch (also in the X-Realtime-Epoch header)")


class CatchUpRequest(BaseModel):
    """The positions of the channels a client follows: channel name -> the last `seq` it applied."""

    positions: dict[
        Annotated[str, Field(min_length=1, max_length=MAX_CHANNEL_NAME_LENGTH)], Annotated[int, Field(ge=0)]
    ] = Field(min_length=1, max_length=MAX_CHANNELS)
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="At most this many events per channel")


class ChannelAnswer(BaseModel):
    """One channel's answer: a page (`ok`), `resync_required` with the head, or `denied` with the reason."""

    status: str = Field(description="`ok`, `resync_required` or `denied`")
    events: list[Envelope] | None = Field(None, description="With `ok`: envelopes from `after + 1`")
    next_after: int | None = Field(None, description="With `ok`: the last `seq` returned")
    head: int | None = Field(None, description="With `ok` and `resync_required`: the channel's head")
    reason: str | None = Field(None, description="With `resync_required` and `denied`")


class CatchUpMany(BaseModel):
    """Every requested channel's answer, and the epoch."""

    epoch: int
    channels: dict[str, ChannelAnswer]


_AUTH_ERRORS: dict[int | str, dict[str, Any]] = {401: {"description": "no valid access token"}}
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "description": "malformed channel name, or a `private-encrypted-` channel on a server without "
        "`PUSHER_ENCRYPTION_MASTER_KEY_BASE64` (`encryption_disabled`)"
    },
    **_AUTH_ERRORS,
    403: {"description": "the channel policy denies this channel"},
    410: {
        "description": "`after` is older than the log retains, or beyond the head: "
        '`{"code": "resync_required", "reason": "too_old" | "ahead_of_head", "head": N, "epoch": E}`; '
        "reload state, then follow the channel from `head`"
    },
}


@router.get(
    "/config",
    summary="What pusher-js needs to connect to the active provider",
    response_model=ClientConfig,
    responses=_AUTH_ERRORS,
)
async def client_config(session: ReadSessionDep, user: CurrentUserDep, settings: SettingsDep) -> ClientConfig:
    """The active provider's public connection settings (never a secret) and the epoch."""
    active = await read_active(session, settings)
    provider = settings.for_secondary() if active.provider is Provider.SECONDARY else settings
    return ClientConfig(
        provider=active.provider,
        epoch=active.epoch,
        key=provider.pusher_key,
        cluster=provider.pusher_cluster,
        ws_host=provider.pusher_host,
        ws_port=provider.pusher_api_port if provider.pusher_host else None,
        force_tls=provider.pusher_use_tls,
        channel_auth_endpoint=CHANNEL_AUTH_PATH,
        user_auth_endpoint=USER_AUTH_PATH,
        catch_up_endpoint=CATCH_UP_PATH,
        notice_channel=NOTICE_CHANNEL,
        user_id=user.id,
    )


@router.get(
    "/events",
    summary="Events of a channel after a sequence number (catch-up)",
    response_model=CatchUp,
    responses=_ERRORS,
)
async def catch_up(
    session: ReadSessionDep,
    user: CurrentUserDep,
    metrics: MetricsDep,
    settings: SettingsDep,
    channel: Annotated[SingleLineText, Query(min_length=1, max_length=MAX_CHANNEL_NAME_LENGTH)],
    after: Annotated[int, Query(ge=0, description="The last `seq` applied; 0 for the beginning")],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Response:
    """Authorized by the same channel policy as subscriptions; never a partial answer."""
    decision = await authorize_channel(session, user, channel)
    metrics.decided("catch-up", decision)
    if isinstance(decision, Denied):
        metrics.catchup("denied")
        raise ApiError(403, "channel_denied", decision.reason, channel=channel)
    refuse_unless_encryption_enabled(decision.channel.channel, settings)
    epoch = await current_epoch(session)
    try:
        page = await read_after(session, channel, after, limit)
    except ResyncRequired as exc:
        metrics.catchup("resync_required", exc.reason)
        raise ResyncRequired(exc.reason, exc.head, epoch) from exc  # 410, see api/errors.py
    metrics.catchup("ok")
    return Response(page.encode(epoch=epoch), media_type="application/json", headers=_epoch_header(epoch))


@router.post(
    "/catch-up",
    summary="Catch-up of many channels in one request (what a polling client sends)",
    response_model=CatchUpMany,
    responses={400: {"description": "a malformed channel name"}, **_AUTH_ERRORS},
)
async def catch_up_many(
    session: ReadSessionDep,
    user: CurrentUserDep,
    metrics: MetricsDep,
    settings: SettingsDep,
    body: CatchUpRequest,
) -> Response:
    """Each channel is authorized by the channel policy and answered on its own: a page of up to `limit`
    events, `resync_required` (reload, continue from `head`) or `denied`; at most 1,000 events in all
    (channels past that get an empty page: ask again while `next_after < head`). A `private-encrypted-`
    channel on a server without a master key is `denied` too, with that reason."""
    decisions = await authorize_channels(session, user, list(body.positions))
    for decision in decisions.values():
        metrics.decided("catch-up", decision)
    sealed = {
        c
        for c, d in decisions.items()
        if not isinstance(d, Denied) and encryption_disabled(d.channel.channel, settings)
    }
    allowed = {
        c: after
        for c, after in body.positions.items()
        if not isinstance(decisions[c], Denied) and c not in sealed
    }
    epoch = await current_epoch(session)
    answers = await read_many(session, allowed, body.limit) if allowed else {}
    parts = []
    for channel in body.positions:
        decision = decisions[channel]
        match answers.get(channel):
            case CatchUpPage() as page:
                metrics.catchup("ok")
                encoded = page.encode(status="ok")
            case ResyncRequired() as resync:
                metrics.catchup("resync_required", resync.reason)
                resync_body = {"status": "resync_required", "reason": resync.reason, "head": resync.head}
                encoded = json.dumps(resync_body)
            case _:
                metrics.catchup("denied")
                if isinstance(decision, Denied):
                    reason = decision.reason
                else:
                    reason = ENCRYPTION_DISABLED if channel in sealed else "denied"
                encoded = json.dumps({"status": "denied", "reason": reason})
        parts.append(f"{json.dumps(channel, ensure_ascii=False)}:{encoded}")
    body_text = f'{{"epoch":{epoch},"channels":{{{",".join(parts)}}}}}'
    return Response(body_text, media_type="application/json", headers=_epoch_header(epoch))


def _epoch_header(epoch: int) -> dict[str, str]:
    return {EPOCH_HEADER: str(epoch)}
