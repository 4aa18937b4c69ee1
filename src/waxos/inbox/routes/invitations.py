"""Invitation routes: an admin invites an email, the invitee lists, accepts or declines; admins list and
revoke their workspace's invitations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from waxos.api.deps import ReadSessionDep, SessionDep
from waxos.api.openapi import emits
from waxos.db.base import utcnow
from waxos.events import MemberAdded
from waxos.inbox import invitations
from waxos.inbox.pages import DEFAULT_LIMIT, MAX_LIMIT
from waxos.inbox.routes.deps import ActorDep, errors
from waxos.inbox.schemas import (
    InvitationOut,
    InvitationPage,
    InvitationSent,
    Joined,
    MemberInvite,
    MyInvitationOut,
    MyInvitations,
)
from waxos.text import SingleLineText

router = APIRouter(prefix="/api/v1", tags=["invitations"])
_ADMIN = (403, "the caller is not an admin of the workspace")
_NOT_YOURS = (404, "no such invitation, or one addressed to another account")


@router.post(
    "/workspaces/{workspace_id}/members",
    status_code=202,
    summary="Invite an email address to a workspace (admins only)",
    responses=errors(_ADMIN, (409, "the email is a member's already")),
)
async def invite(
    workspace_id: int, body: MemberInvite, session: SessionDep, actor: ActorDep
) -> InvitationSent:
    """The account with this email becomes a member only when it accepts (`member.added` then). The
    answer is the same whether or not an account has the email, and names no account; inviting the same
    email again renews the pending invitation (same id, no second one)."""
    return InvitationSent.of(await invitations.invite(session, actor, workspace_id, body.email, body.role))


@router.get(
    "/workspaces/{workspace_id}/invitations",
    summary="List a workspace's invitations (admins only)",
    responses=errors(_ADMIN),
)
async def list_invitations(
    workspace_id: int,
    session: ReadSessionDep,
    actor: ActorDep,
    cursor: Annotated[SingleLineText | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> InvitationPage:
    """Pending and expired ones, by id; pass `next_cursor` as `cursor` for the next page."""
    page, next_cursor = await invitations.list_for_workspace(session, actor, workspace_id, cursor, limit)
    now = utcnow()
    return InvitationPage(
        items=[
            InvitationOut(
                id=i.id,
                email=i.email,
                role=i.role,
                invited_by_id=i.invited_by_id,
                invited_at=i.created_at,
                expires_at=i.expires_at,
                expired=invitations.is_expired(i, now),
            )
            for i in page
        ],
        next_cursor=next_cursor,
    )


@router.delete(
    "/workspaces/{workspace_id}/invitations/{invitation_id}",
    status_code=204,
    summary="Revoke an invitation (admins only)",
    responses=errors(_ADMIN),
)
async def revoke_invitation(
    workspace_id: int, invitation_id: int, session: SessionDep, actor: ActorDep
) -> None:
    """It can no longer be accepted; nobody is told."""
    await invitations.revoke(session, actor, workspace_id, invitation_id)


@router.get("/me/invitations", summary="List my pending invitations", responses=errors())
async def my_invitations(session: ReadSessionDep, actor: ActorDep) -> MyInvitations:
    """Those addressed to my account's email and not expired, newest first."""
    return MyInvitations(
        items=[
            MyInvitationOut(
                id=i.id,
                workspace_id=w.id,
                workspace_name=w.name,
                role=i.role,
                invited_by_name=inviter.name,
                invited_at=i.created_at,
                expires_at=i.expires_at,
            )
            for i, w, inviter in await invitations.list_mine(session, actor)
        ]
    )


@router.post(
    "/invitations/{invitation_id}/accept",
    summary="Accept an invitation: join the workspace",
    responses=errors(_NOT_YOURS, (410, "the invitation has expired")),
    openapi_extra=emits(MemberAdded),
)
async def accept_invitation(invitation_id: int, session: SessionDep, actor: ActorDep) -> Joined:
    """`member.added` to the workspace's members channel and to my own channel; the invitation is gone."""
    membership, workspace = await invitations.accept(session, actor, invitation_id)
    return Joined(
        workspace_id=workspace.id,
        workspace_name=workspace.name,
        role=membership.role,
        joined_at=membership.created_at,
    )


@router.post(
    "/invitations/{invitation_id}/decline",
    status_code=204,
    summary="Decline an invitation",
    responses=errors(_NOT_YOURS),
)
async def decline_invitation(invitation_id: int, session: SessionDep, actor: ActorDep) -> None:
    """The invitation is gone (an expired one too); the workspace is not told."""
    await invitations.decline(session, actor, invitation_id)
