"""AI suggestion routes: the co-pilot posts one; staff read, accept (maybe edited) or discard it."""

from __future__ import annotations

from fastapi import APIRouter

from waxos.api.deps import ReadSessionDep, SessionDep
from waxos.api.openapi import emits
from waxos.events import AiSuggestionAccepted, AiSuggestionDiscarded, AiSuggestionReady, MessageNew
from waxos.inbox import suggestions
from waxos.inbox.routes.deps import ActorDep, ActorOrServiceDep, errors
from waxos.inbox.schemas import Accepted, MessageOut, SuggestionAccept, SuggestionCreate, SuggestionOut

router = APIRouter(prefix="/api/v1", tags=["AI suggestions"])
_DECIDED = (409, "the suggestion was already accepted or discarded, or the chat is closed")


@router.post(
    "/chats/{chat_id}/suggestions",
    status_code=201,
    summary="Post an AI reply suggestion (the AI service, or a workspace admin)",
    responses=errors(
        (401, "no valid access token or service token"),
        (403, "a user who is not an admin of the chat's workspace"),
    ),
    openapi_extra=emits(AiSuggestionReady, AiSuggestionDiscarded),
)
async def create_suggestion(
    chat_id: int, body: SuggestionCreate, session: SessionDep, caller: ActorOrServiceDep
) -> SuggestionOut:
    """`ai.suggestion_ready` to the assignee (every admin while unassigned); a waiting one is superseded."""
    return SuggestionOut.model_validate(
        await suggestions.create_suggestion(session, caller, chat_id, body.body)
    )


@router.get("/chats/{chat_id}/suggestions", summary="The chat's waiting suggestions", responses=errors())
async def list_waiting(chat_id: int, session: ReadSessionDep, actor: ActorDep) -> list[SuggestionOut]:
    """Suggestions not yet accepted or discarded, oldest first."""
    return [SuggestionOut.model_validate(s) for s in await suggestions.list_waiting(session, actor, chat_id)]


@router.get("/suggestions/{suggestion_id}", summary="Read a suggestion", responses=errors())
async def get_suggestion(suggestion_id: int, session: ReadSessionDep, actor: ActorDep) -> SuggestionOut:
    """One suggestion, with its text."""
    return SuggestionOut.model_validate(await suggestions.get_suggestion(session, actor, suggestion_id))


@router.post(
    "/suggestions/{suggestion_id}/accept",
    summary="Send a suggestion as an outbound message",
    responses=errors(_DECIDED),
    openapi_extra=emits(MessageNew, AiSuggestionAccepted),
)
async def accept(
    suggestion_id: int, session: SessionDep, actor: ActorDep, body: SuggestionAccept | None = None
) -> Accepted:
    """Optionally with `{"body": …}`, the text as the user edited it."""
    edited = body.body if body is not None else None
    suggestion, message = await suggestions.accept(session, actor, suggestion_id, edited)
    return Accepted(
        suggestion=SuggestionOut.model_validate(suggestion), message=MessageOut.model_validate(message)
    )


@router.post(
    "/suggestions/{suggestion_id}/discard",
    summary="Discard a suggestion",
    responses=errors(_DECIDED),
    openapi_extra=emits(AiSuggestionDiscarded),
)
async def discard(suggestion_id: int, session: SessionDep, actor: ActorDep) -> SuggestionOut:
    """`ai.suggestion_discarded` to the suggestion's audience."""
    return SuggestionOut.model_validate(await suggestions.discard(session, actor, suggestion_id))
