"""Chat routes: open, list, read, close or reopen, assign and unassign."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from waxos.api.deps import ReadSessionDep, SessionDep
from waxos.api.openapi import emits
from waxos.events import ChatAssigned, ChatNew, ChatStatusChanged, ChatUnassigned
from waxos.inbox import chats
from waxos.inbox.models import ChatStatus
from waxos.inbox.pages import DEFAULT_LIMIT, MAX_LIMIT
from waxos.inbox.routes.deps import ActorDep, errors
from waxos.inbox.schemas import AssigneeSet, ChatCreate, ChatOut, ChatPage, ChatPatch
from waxos.text import SingleLineText

router = APIRouter(prefix="/api/v1", tags=["chats"])


@router.post(
    "/workspaces/{workspace_id}/chats",
    status_code=201,
    summary="Open a chat with a customer",
    responses=errors(),
    openapi_extra=emits(ChatNew),
)
async def create_chat(workspace_id: int, body: ChatCreate, session: SessionDep, actor: ActorDep) -> ChatOut:
    """A new open, unassigned chat in the workspace."""
    return ChatOut.of(await chats.create_chat(session, actor, workspace_id, body.customer))


@router.get(
    "/workspaces/{workspace_id}/chats",
    summary="List a workspace's chats, newest first",
    responses=errors((422, "the request is malformed, or the cursor is not one this API returned")),
)
async def list_chats(
    workspace_id: int,
    session: ReadSessionDep,
    actor: ActorDep,
    status: ChatStatus | None = None,
    assignee_id: Annotated[int | None, Query(ge=1)] = None,
    cursor: Annotated[
        SingleLineText | None, Query(max_length=200, description="`next_cursor` of the previous page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> ChatPage:
    """Filtered by `status` and `assignee_id` when given."""
    page, next_cursor = await chats.list_chats(
        session, actor, workspace_id, status=status, assignee_id=assignee_id, cursor=cursor, limit=limit
    )
    return ChatPage(items=[ChatOut.of(chat) for chat in page], next_cursor=next_cursor)


@router.get("/chats/{chat_id}", summary="Read a chat", responses=errors())
async def get_chat(chat_id: int, session: ReadSessionDep, actor: ActorDep) -> ChatOut:
    """One chat."""
    return ChatOut.of(await chats.get_chat(session, actor, chat_id))


@router.patch(
    "/chats/{chat_id}",
    summary="Close or reopen a chat",
    responses=errors((409, "the chat already has this status")),
    openapi_extra=emits(ChatStatusChanged),
)
async def patch_chat(chat_id: int, body: ChatPatch, session: SessionDep, actor: ActorDep) -> ChatOut:
    """`open` -> `closed` or `closed` -> `open`."""
    return ChatOut.of(await chats.set_status(session, actor, chat_id, body.status))


@router.put(
    "/chats/{chat_id}/assignee",
    summary="Assign a chat to a member",
    responses=errors((422, "the user is not a member of the chat's workspace")),
    openapi_extra=emits(ChatAssigned),
)
async def assign(chat_id: int, body: AssigneeSet, session: SessionDep, actor: ActorDep) -> ChatOut:
    """`chat.assigned` to the workspace's chats channel and to the new and previous assignees' channels;
    assigning the current assignee again changes nothing."""
    return ChatOut.of(await chats.assign(session, actor, chat_id, body.user_id))


@router.delete(
    "/chats/{chat_id}/assignee",
    summary="Unassign a chat",
    responses=errors(),
    openapi_extra=emits(ChatUnassigned),
)
async def unassign(chat_id: int, session: SessionDep, actor: ActorDep) -> ChatOut:
    """`chat.unassigned` to the workspace and the previous assignee; an unassigned chat stays as it is."""
    return ChatOut.of(await chats.unassign(session, actor, chat_id))
