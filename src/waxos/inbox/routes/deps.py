"""What inbox routes depend on: the acting user (with their socket id), the AI service, common errors."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request

from waxos.api.current_user import BearerDep, token_from
from waxos.api.deps import SettingsDep
from waxos.auth.errors import NotAuthenticated
from waxos.auth.service_tokens import is_service_token, service_token_accepted
from waxos.events.writer import validate_excluded_socket
from waxos.inbox.access import Actor
from waxos.inbox.announcements import AnnouncementWorker
from waxos.inbox.suggestions import AiService
from waxos.text import SingleLineText

SocketIdHeader = Annotated[
    SingleLineText | None,
    Header(
        alias="X-Socket-ID",
        description="pusher-js's `socket_id`: the events this request causes are not sent live to that "
        "connection (Pusher's socket exclusion); catch-up still serves them",
    ),
]


async def get_actor(request: Request, credentials: BearerDep, socket_id: SocketIdHeader = None) -> Actor:
    """The staff user of the bearer token (checked against the database by each service call).

    The settings are read from the app's state, not through `SettingsDep`: every dependency FastAPI
    resolves costs the hottest routes (sending a message) tens of microseconds.
    """
    token = token_from(credentials, request.app.state.settings)
    socket = None if socket_id is None else validate_excluded_socket(socket_id)
    return Actor(token.user_id, token.generation, socket)


async def get_actor_or_service(
    settings: SettingsDep, credentials: BearerDep, socket_id: SocketIdHeader = None
) -> Actor | AiService:
    """The AI service when the bearer token is an accepted service token, else the staff user."""
    if credentials is not None and is_service_token(credentials.credentials):
        if service_token_accepted(credentials.credentials, settings.service_token_digests):
            return AiService()
        raise NotAuthenticated("invalid service token")
    token = token_from(credentials, settings)
    return Actor(
        token.user_id, token.generation, None if socket_id is None else validate_excluded_socket(socket_id)
    )


async def get_announcements(request: Request) -> AnnouncementWorker:
    """The app's announcement fan-out worker."""
    worker: AnnouncementWorker = request.app.state.announcements
    return worker


ActorDep = Annotated[Actor, Depends(get_actor)]
ActorOrServiceDep = Annotated[Actor | AiService, Depends(get_actor_or_service)]
AnnouncementsDep = Annotated[AnnouncementWorker, Depends(get_announcements)]

NOT_FOUND = {"description": "no such id, or one in a workspace the caller is not a member of"}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "a malformed X-Socket-ID"},
    401: {"description": "no valid access token, or its user no longer exists"},
    404: NOT_FOUND,
    413: {"description": "the request body is too large, or a text is longer than 10,000 characters"},
    422: {"description": "the request is malformed"},
}


def errors(*extra: tuple[int, str]) -> dict[int | str, dict[str, Any]]:
    """The common error responses plus route-specific ones."""
    return {**ERRORS, **{status: {"description": text} for status, text in extra}}
