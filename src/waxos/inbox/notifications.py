"""Workspace notifications: an admin posts one, every member hears it and can list and read them."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from waxos.channels.names import notifications_channel
from waxos.db.base import utcnow
from waxos.events import NotificationSystem
from waxos.inbox.access import Actor, member_of, notification_for
from waxos.inbox.models import Level, Notification
from waxos.inbox.outbox import Outbox
from waxos.inbox.pages import decode_cursor, encode_cursor


async def create_notification(
    session: AsyncSession, actor: Actor, workspace_id: int, level: Level, code: str
) -> Notification:
    """A notification to the workspace (admins only); `notification.system` on its notifications channel."""
    member = await member_of(session, actor, workspace_id)
    member.require_admin("post workspace notifications")
    notification = Notification(
        workspace_id=workspace_id,
        level=level.value,
        code=code,
        created_by_id=actor.user_id,
        created_at=utcnow(),
    )
    session.add(notification)
    await session.flush()
    outbox = Outbox(actor.socket_id)
    outbox.add(
        notifications_channel(workspace_id),
        NotificationSystem(notification_id=notification.id, level=level.value, code=code),
    )
    await outbox.emit(session)
    return notification


async def list_notifications(
    session: AsyncSession, actor: Actor, workspace_id: int, cursor: str | None, limit: int
) -> tuple[list[Notification], str | None]:
    """The workspace's notifications and every announcement, newest first, and the next page's cursor."""
    await member_of(session, actor, workspace_id)
    statement = select(Notification).where(
        or_(Notification.workspace_id == workspace_id, Notification.workspace_id.is_(None))
    )
    before = decode_cursor(cursor)
    if before is not None:
        statement = statement.where(Notification.id < before)
    rows = list(await session.scalars(statement.order_by(Notification.id.desc()).limit(limit + 1)))
    if len(rows) > limit:
        return rows[:limit], encode_cursor(rows[limit - 1].id)
    return rows, None


async def get_notification(session: AsyncSession, actor: Actor, notification_id: int) -> Notification:
    """One notification the caller may see."""
    return await notification_for(session, actor, notification_id)
