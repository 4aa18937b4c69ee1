"""The event catalogue as JSON Schema, and test events a workspace admin sends through the log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, status
from pydantic import BaseModel, Field, ValidationError

from waxos.api.current_user import CurrentUserDep
from waxos.api.deps import SessionDep
from waxos.api.errors import ApiError
from waxos.auth.models import Role
from waxos.auth.service import membership_role
from waxos.channels.names import chats_channel, notifications_channel, waxos_channel
from waxos.events import CATALOGUE, Envelope, UnknownEvent, emit, parse_event
from waxos.pusher_protocol.limits import MAX_CHANNEL_NAME_LENGTH
from waxos.text import SingleLineText

router = APIRouter(prefix="/api/v1", tags=["events"])


class CatalogueEntry(BaseModel):
    """One catalogued event: its type, description and the JSON Schema of its payload."""

    type: str
    description: str
    payload_schema: dict[str, Any] = Field(description="JSON Schema (2020-12) of the envelope's `data`")


class Catalogue(BaseModel):
    """Every event a WAXOS channel can carry."""

    events: list[CatalogueEntry]


class TestEvent(BaseModel):
    """A catalogued event to send on one of the workspace's channels, like any feature would."""

    channel: SingleLineText = Field(min_length=1, max_length=MAX_CHANNEL_NAME_LENGTH)
    type: SingleLineText = Field(min_length=1, max_length=200)
    data: dict[str, Any]


def _payload_schema(event_type: str) -> dict[str, Any]:
    schema = CATALOGUE[event_type].model_json_schema()
    # The envelope carries `type`; the payload is the rest.
    schema["properties"].pop("type", None)
    schema.pop("title", None)
    return schema


@router.get("/events/catalogue", summary="The event catalogue, with each payload's JSON Schema")
async def catalogue(_user: CurrentUserDep) -> Catalogue:
    """What each event type carries: generated from the same models `emit` validates with."""
    return Catalogue(
        events=[
            CatalogueEntry(
                type=event_type,
                description=(model.__doc__ or "").strip(),
                payload_schema=_payload_schema(event_type),
            )
            for event_type, model in sorted(CATALOGUE.items())
        ]
    )


# Test events go where the console offers them: the chats and notifications channels. Not the members,
# presence or user channels, whose events tell clients who has access and who is online: a forged
# `member.removed` or `user.online` would make every member's client believe a colleague left or went
# offline. Nor an encrypted channel, which the relay cannot send to without the master key.
TEST_CHANNELS = (chats_channel, notifications_channel)
REFUSED_TEST_TYPES = frozenset({"member.added", "member.removed", "member.role_changed", "user.online"})


@router.post(
    "/workspaces/{workspace_id}/test-events",
    status_code=status.HTTP_201_CREATED,
    summary="Send a test event on one of the workspace's channels (workspace admins)",
    responses={
        401: {"description": "no valid access token"},
        403: {"description": "a member, but not an admin of this workspace"},
        404: {"description": "no such workspace among the caller's"},
        413: {"description": "the envelope would exceed Pusher's 10,240 bytes"},
        422: {
            "description": "not a catalogued event, a payload the catalogue refuses, an event about "
            "access or presence (`member.*`, `user.online`), or a channel other than the workspace's "
            "chats and notifications channels; `problems` lists each field"
        },
    },
)
async def send_test_event(
    session: SessionDep,
    user: CurrentUserDep,
    workspace_id: Annotated[int, Path(ge=1)],
    body: TestEvent,
) -> Envelope:
    """Validated against the catalogue and logged by `emit`: the relay delivers it like any other event."""
    role = await membership_role(session, user.id, workspace_id)
    if role is None:
        raise ApiError(404, "not_found", "no such workspace")
    if role is not Role.ADMIN:
        raise ApiError(403, "forbidden", "only the workspace's admins may send test events")
    waxos_channel(body.channel)  # InvalidName: 400
    if body.channel not in {channel(workspace_id) for channel in TEST_CHANNELS}:
        allowed = " or ".join(channel(workspace_id) for channel in TEST_CHANNELS)
        raise ApiError(422, "invalid_channel", f"test events go to {allowed}", field="channel")
    if body.type in REFUSED_TEST_TYPES:
        raise ApiError(
            422, "refused_event", f"{body.type} tells clients who has access or is online", field="type"
        )
    try:
        event = parse_event(body.type, body.data)
    except UnknownEvent as exc:
        raise ApiError(422, "unknown_event", str(exc), field="type") from exc
    except ValidationError as exc:
        # Locations start with the union's tag (the event type): drop it, name the payload's field.
        problems = [
            {"field": ".".join(str(p) for p in error["loc"][1:]) or "data", "problem": error["msg"]}
            for error in exc.errors(include_url=False)
        ]
        raise ApiError(422, "invalid_event", f"not a valid {body.type} payload", problems=problems) from exc
    return await emit(session, body.channel, event)  # EventTooLarge: 413, ChannelRefused: 422
