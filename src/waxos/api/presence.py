"""Staff presence: who of a workspace's members is online, as Pusher's presence webhooks reported it."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import BaseModel, Field
from sqlalchemy import and_, select

from waxos.api.current_user import CurrentUserDep
from waxos.api.deps import ReadSessionDep
from waxos.api.errors import ApiError
from waxos.auth.models import Membership, Role, User
from waxos.auth.service import membership_role
from waxos.webhooks.tables import StaffPresence

router = APIRouter(prefix="/api/v1", tags=["presence"])


class PresentMember(BaseModel):
    """A member and whether they are online."""

    user_id: int
    name: str
    role: Role
    online: bool
    since: datetime | None = Field(description="When they last came online or went offline; null: never seen")


class WorkspacePresence(BaseModel):
    """Every member of a workspace, online ones first."""

    workspace_id: int
    online: int
    members: list[PresentMember]


@router.get(
    "/workspaces/{workspace_id}/presence",
    summary="Who of the workspace's staff is online (from Pusher's presence webhooks)",
    responses={401: {"description": "no valid access token"}, 404: {"description": "not a member"}},
)
async def workspace_presence(
    session: ReadSessionDep, user: CurrentUserDep, workspace_id: Annotated[int, Path(ge=1)]
) -> WorkspacePresence:
    """Members of the workspace (the caller's own workspaces only), each online or not."""
    if await membership_role(session, user.id, workspace_id) is None:
        raise ApiError(404, "not_found", "no such workspace")
    rows = await session.execute(
        select(User.id, User.name, Membership.role, StaffPresence.online, StaffPresence.changed_at)
        .join(Membership, Membership.user_id == User.id)
        .outerjoin(
            StaffPresence,
            and_(StaffPresence.user_id == User.id, StaffPresence.workspace_id == Membership.workspace_id),
        )
        .where(Membership.workspace_id == workspace_id)
        .order_by(User.name, User.id)
    )
    members = [
        PresentMember(user_id=uid, name=name, role=role, online=bool(online), since=changed)
        for uid, name, role, online, changed in rows
    ]
    members.sort(key=lambda m: not m.online)
    return WorkspacePresence(
        workspace_id=workspace_id, online=sum(m.online for m in members), members=members
    )
