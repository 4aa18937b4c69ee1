"""Notification routes: workspace notifications (admins) and announcements (platform operators)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from waxos.api.deps import ReadSessionDep, SessionDep
from waxos.api.openapi import emits
from waxos.events import NotificationSystem
from waxos.inbox import notifications
from waxos.inbox.announcements import create_announcement
from waxos.inbox.pages import DEFAULT_LIMIT, MAX_LIMIT
from waxos.inbox.routes.deps import ActorDep, AnnouncementsDep, errors
from waxos.inbox.schemas import AnnouncementOut, NotificationCreate, NotificationOut, NotificationPage
from waxos.text import SingleLineText

router = APIRouter(prefix="/api/v1", tags=["notifications"])


@router.post(
    "/workspaces/{workspace_id}/notifications",
    status_code=201,
    summary="Notify a workspace (its admins only)",
    responses=errors((403, "the caller is not an admin of the workspace")),
    openapi_extra=emits(NotificationSystem),
)
async def create_notification(
    workspace_id: int, body: NotificationCreate, session: SessionDep, actor: ActorDep
) -> NotificationOut:
    """`notification.system` on the workspace's notifications channel."""
    notification = await notifications.create_notification(
        session, actor, workspace_id, body.level, body.code
    )
    return NotificationOut.model_validate(notification)


@router.get(
    "/workspaces/{workspace_id}/notifications",
    summary="List a workspace's notifications and the announcements, newest first",
    responses=errors(),
)
async def list_notifications(
    workspace_id: int,
    session: ReadSessionDep,
    actor: ActorDep,
    cursor: Annotated[SingleLineText | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> NotificationPage:
    """Pass `next_cursor` as `cursor` for the next page."""
    page, next_cursor = await notifications.list_notifications(session, actor, workspace_id, cursor, limit)
    return NotificationPage(items=[NotificationOut.model_validate(n) for n in page], next_cursor=next_cursor)


@router.get("/notifications/{notification_id}", summary="Read a notification", responses=errors())
async def get_notification(notification_id: int, session: ReadSessionDep, actor: ActorDep) -> NotificationOut:
    """A notification of one of the caller's workspaces, or an announcement."""
    return NotificationOut.model_validate(
        await notifications.get_notification(session, actor, notification_id)
    )


@router.post(
    "/announcements",
    status_code=202,
    summary="Announce to every workspace (platform operators only)",
    responses=errors((403, "the caller is not a platform operator")),
    openapi_extra=emits(NotificationSystem),
)
async def announce(
    body: NotificationCreate, session: SessionDep, actor: ActorDep, worker: AnnouncementsDep
) -> AnnouncementOut:
    """Answered at once: `notification.system` is then logged on every workspace's notifications channel,
    in batches, and delivered by the relay."""
    notification, count = await create_announcement(session, actor, body.level, body.code, worker.wake)
    return AnnouncementOut(notification=NotificationOut.model_validate(notification), workspaces=count)
