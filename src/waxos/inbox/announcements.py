"""Announcements: a platform operator's notification to every workspace, fanned out through the log.

The request only records the announcement and its fan-out (one short transaction) and answers; the
`AnnouncementFanout` worker then logs `notification.system` on every workspace's notifications channel in
batches, each batch in its own transaction with the fan-out's progress, so a crash neither loses nor
repeats a workspace, and any process resumes a fan-out another left unfinished. The relay delivers
afterwards, like any other event: no request waits for Pusher.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from sqlalchemy import event, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from waxos.auth.errors import NotAuthenticated
from waxos.auth.models import User, Workspace
from waxos.channels.names import notifications_channel
from waxos.db.base import utcnow
from waxos.db.engine import transaction
from waxos.events import NotificationSystem, emit_each
from waxos.inbox.access import USER_GONE, Actor
from waxos.inbox.errors import Forbidden
from waxos.inbox.models import AnnouncementFanout, Level, Notification

logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
SWEEP_SECONDS = 5.0


async def require_operator(session: AsyncSession, actor: Actor) -> None:
    """Raise `Forbidden` unless the caller is a platform operator (`NotAuthenticated` if they are gone)."""
    is_operator = await session.scalar(
        select(User.is_operator).where(User.id == actor.user_id, User.token_generation == actor.generation)
    )
    if is_operator is None:
        raise NotAuthenticated(USER_GONE)
    if not is_operator:
        raise Forbidden("operator_required", "only a platform operator may do this")


async def create_announcement(
    session: AsyncSession, actor: Actor, level: Level, code: str, on_commit: Callable[[], None]
) -> tuple[Notification, int]:
    """Record an announcement to every current workspace; `on_commit` runs once the transaction commits.

    Returns the notification and how many workspaces it will reach.
    """
    await require_operator(session, actor)
    last, count = (await session.execute(select(func.max(Workspace.id), func.count(Workspace.id)))).one()
    now = utcnow()
    notification = Notification(
        workspace_id=None, level=level.value, code=code, created_by_id=actor.user_id, created_at=now
    )
    session.add(notification)
    await session.flush()
    session.add(
        AnnouncementFanout(
            notification_id=notification.id,
            last_workspace_id=last or 0,
            done_through=0,
            workspaces=int(count),
            created_at=now,
            finished_at=None if count else now,
        )
    )
    await session.flush()

    def committed(_session: Session) -> None:
        on_commit()

    event.listen(session.sync_session, "after_commit", committed, once=True)
    return notification, int(count)


async def fan_out_batch(session: AsyncSession, notification_id: int, batch_size: int = BATCH_SIZE) -> bool:
    """Log the announcement for the next `batch_size` workspaces; True once every workspace has it.

    The fan-out row is locked for the transaction, so two processes never send one batch twice.
    """
    fanout = await session.get(AnnouncementFanout, notification_id, with_for_update=True)
    if fanout is None or fanout.finished_at is not None:
        return True
    notification = await session.get(Notification, notification_id)
    if notification is None:  # deleted meanwhile (with its fan-out, by cascade)
        return True
    workspace_ids = list(
        await session.scalars(
            select(Workspace.id)
            .where(Workspace.id > fanout.done_through, Workspace.id <= fanout.last_workspace_id)
            .order_by(Workspace.id)
            .limit(batch_size)
        )
    )
    announcement = NotificationSystem(
        notification_id=notification.id,
        level=notification.level,
        code=notification.code,
    )
    await emit_each(session, [notifications_channel(w) for w in workspace_ids], announcement)
    finished = len(workspace_ids) < batch_size
    fanout.done_through = workspace_ids[-1] if workspace_ids else fanout.last_workspace_id
    if finished:
        fanout.finished_at = utcnow()
    return finished


class AnnouncementWorker:
    """Runs unfinished fan-outs in the background: woken by a new announcement, and sweeping now and then
    for fan-outs another process left behind."""

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], sweep_seconds: float = SWEEP_SECONDS
    ) -> None:
        self._sessions = sessions
        self._sweep_seconds = sweep_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self) -> None:
        """Start working in the current event loop."""
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run(), name="waxos-announcements")

    def wake(self) -> None:
        """Look for work now (safe from any thread)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def aclose(self) -> None:
        """Stop after the batch in progress."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.run_pending()
            except (SQLAlchemyError, OSError) as exc:
                logger.error("announcement fan-out cannot reach the database (%s); retrying", exc)
            except Exception:
                logger.exception("announcement fan-out failed unexpectedly; retrying")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._sweep_seconds):
                    await self._wake.wait()

    async def run_pending(self) -> None:
        """Finish every unfinished fan-out, a batch per transaction."""
        async with self._sessions() as session:
            pending = list(
                await session.scalars(
                    select(AnnouncementFanout.notification_id)
                    .where(AnnouncementFanout.finished_at.is_(None))
                    .order_by(AnnouncementFanout.notification_id)
                )
            )
        for notification_id in pending:
            finished = False
            while not finished:
                async with transaction(self._sessions) as session:
                    finished = await fan_out_batch(session, notification_id)
            logger.info("announcement %d fanned out", notification_id)
