"""Member routes: list, change role, remove; and deleting a user account (operators).

Members join by invitation: `waxos.inbox.routes.invitations`.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from waxos.api.deps import ReadSessionDep, SessionDep
from waxos.api.openapi import emits
from waxos.events import ChatUnassigned, MemberRemoved, MemberRoleChanged
from waxos.inbox import members
from waxos.inbox.pages import DEFAULT_LIMIT, MAX_LIMIT
from waxos.inbox.routes.deps import ActorDep, errors
from waxos.inbox.schemas import MemberOut, MemberPage, MemberPatch
from waxos.text import SingleLineText

router = APIRouter(prefix="/api/v1", tags=["members"])
_ADMIN = (403, "the caller is not an admin of the workspace")
_LAST_ADMIN = (409, "the change would leave the workspace without an admin")


@router.get("/workspaces/{workspace_id}/members", summary="List a workspace's members", responses=errors())
async def list_members(
    workspace_id: int,
    session: ReadSessionDep,
    actor: ActorDep,
    cursor: Annotated[SingleLineText | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> MemberPage:
    """By user id; pass `next_cursor` as `cursor` for the next page."""
    page, next_cursor = await members.list_members(session, actor, workspace_id, cursor, limit)
    return MemberPage(items=[MemberOut.of(m, u) for m, u in page], next_cursor=next_cursor)


@router.patch(
    "/workspaces/{workspace_id}/members/{user_id}",
    summary="Change a member's role (admins only)",
    responses=errors(_ADMIN, _LAST_ADMIN),
    openapi_extra=emits(MemberRoleChanged),
)
async def change_role(
    workspace_id: int, user_id: int, body: MemberPatch, session: SessionDep, actor: ActorDep
) -> MemberOut:
    """`member.role_changed` to the workspace and the user; the same role again changes nothing."""
    membership, user = await members.change_role(session, actor, workspace_id, user_id, body.role)
    return MemberOut.of(membership, user)


@router.delete(
    "/workspaces/{workspace_id}/members/{user_id}",
    status_code=204,
    summary="Remove a member (an admin), or leave (the member)",
    responses=errors(_ADMIN, _LAST_ADMIN),
    openapi_extra=emits(MemberRemoved, ChatUnassigned),
)
async def remove_member(workspace_id: int, user_id: int, session: SessionDep, actor: ActorDep) -> None:
    """Only members who accepted an invitation exist to be removed (a pending one is revoked instead).
    Access ends at once: their subscriptions to the workspace's channels are refused from now on, and
    their live connections are closed within seconds. Their chats in the workspace are unassigned."""
    await members.remove_member(session, actor, workspace_id, user_id)


@router.delete(
    "/users/{user_id}",
    status_code=204,
    summary="Delete a user account (platform operators only)",
    responses=errors(
        (403, "the caller is not a platform operator"), (409, "operators cannot delete themselves")
    ),
    openapi_extra=emits(MemberRemoved, ChatUnassigned),
)
async def delete_user(user_id: int, session: SessionDep, actor: ActorDep) -> None:
    """Every membership ends as a removal does; then the account is gone and its tokens stop working."""
    await members.delete_user(session, actor, user_id)
