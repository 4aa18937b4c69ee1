"""Catch-up endpoint: the fallback path that serves logged events a subscriber missed."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from waxos.api.current_user import CurrentUserDep
from waxos.api.deps import MetricsDep, ReadSessionDep
from waxos.api.errors import ApiError
from waxos.channels.policy import Denied, authorize_channel
from waxos.events import Envelope
from waxos.events.catchup import DEFAULT_LIMIT, MAX_LIMIT, ResyncRequired, read_after
from waxos.pusher_protocol.limits import MAX_CHANNEL_NAME_LENGTH

router = APIRouter(prefix="/api/v1/realtime", tags=["realtime"])


class CatchUp(BaseModel):
    """A page of a channel's events after a position."""

    channel: str
    events: list[Envelope] = Field(description="Envelopes in `seq` order, starting at `after + 1`")
    next_after: int = Field(description="Pass as `after` for the next page (the last `seq` returned)")
    head: int = Field(description="The channel's latest `seq`; more pages exist while `next_after < head`")


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "malformed channel name"},
    401: {"description": "no valid access token"},
    403: {"description": "the channel policy denies this channel"},
    410: {
        "description": "`after` is older than the log retains, or beyond the head: "
        '`{"code": "resync_required", "reason": "too_old" | "ahead_of_head", "head": N}`; '
        "reload state, then follow the channel from `head`"
    },
}


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
    channel: Annotated[str, Query(min_length=1, max_length=MAX_CHANNEL_NAME_LENGTH)],
    after: Annotated[int, Query(ge=0, description="The last `seq` applied; 0 for the beginning")],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> Response:
    """Authorized by the same channel policy as subscriptions; never a partial answer."""
    decision = await authorize_channel(session, user, channel)
    metrics.decided("catch-up", decision)
    if isinstance(decision, Denied):
        metrics.catchup("denied")
        raise ApiError(403, "channel_denied", decision.reason, channel=channel)
    try:
        page = await read_after(session, channel, after, limit)
    except ResyncRequired as exc:  # answered 410 by api/errors.py
        metrics.catchup("resync_required", exc.reason)
        raise
    metrics.catchup("ok")
    return Response(page.encode(), media_type="application/json")
