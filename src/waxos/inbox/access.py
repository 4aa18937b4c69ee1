"""Who may act on what: every inbox route loads its target together with the caller's membership.

An id in a workspace the caller does not belong to is answered exactly like an id that does not exist
(`NotFound`), so nobody learns what other tenants hold. Loading the target and checking membership is one
query on the path that succeeds; only a miss asks a second time whether the caller still exists, so a
deleted user's token gets `NotAuthenticated` (401) rather than 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from waxos.auth.errors import NotAuthenticated
from waxos.auth.models import Membership, Role, User
from waxos.inbox.errors import Forbidden, NotFound
from waxos.inbox.models import Chat, Message, Notification, Suggestion

USER_GONE = "the user of this access token no longer exists"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who makes a request: the access token's user, and the pusher-js socket that sent it (if said).

    `generation` is the token's: the user read from the database must have it too, or it is another user
    given the same id (`waxos.auth.tokens.AccessToken`).
    """

    user_id: int
    generation: int
    # `X-Socket-ID`: the sender's own connection, left out of live delivery of the events it causes.
    socket_id: str | None = None


def is_token_user(actor: Actor) -> Any:
    """SQL: the actor's user exists with the token's generation."""
    return exists().where(User.id == actor.user_id, User.token_generation == actor.generation)


@dataclass(frozen=True, slots=True)
class Member:
    """The caller as a member of one workspace."""

    user_id: int
    workspace_id: int
    role: Role

    @property
    def is_admin(self) -> bool:
        """True for the workspace's admins."""
        return self.role is Role.ADMIN

    def require_admin(self, action: str) -> None:
        """Raise `Forbidden` unless this member is an admin of the workspace."""
        if not self.is_admin:
            raise Forbidden("admin_required", f"only a workspace admin may {action}")


def _membership(actor: Actor, workspace_column: Any) -> Any:
    return and_(
        Membership.workspace_id == workspace_column, Membership.user_id == actor.user_id, is_token_user(actor)
    )


async def missing(session: AsyncSession, actor: Actor, what: str) -> NotFound:
    """The error to raise for a target not found: `NotFound(what)`; raises `NotAuthenticated` itself if the
    caller's user no longer exists."""
    if not await session.scalar(select(is_token_user(actor))):
        raise NotAuthenticated(USER_GONE)
    return NotFound(what)


async def member_of(session: AsyncSession, actor: Actor, workspace_id: int) -> Member:
    """The caller's membership of `workspace_id`, or `NotFound("workspace")`."""
    role = await session.scalar(select(Membership.role).where(_membership(actor, workspace_id)))
    if role is None:
        raise await missing(session, actor, "workspace")
    return Member(actor.user_id, workspace_id, role)


async def chat_for(
    session: AsyncSession, actor: Actor, chat_id: int, *, lock: bool = False
) -> tuple[Member, Chat]:
    """The chat and the caller's membership of its workspace; `lock` holds the chat row until commit."""
    statement = (
        select(Chat, Membership.role)
        .join(Membership, _membership(actor, Chat.workspace_id))
        .where(Chat.id == chat_id)
    )
    if lock:
        statement = statement.with_for_update(of=Chat)
    row = (await session.execute(statement)).one_or_none()
    if row is None:
        raise await missing(session, actor, "chat")
    chat, role = row
    return Member(actor.user_id, chat.workspace_id, role), chat


async def message_for(
    session: AsyncSession, actor: Actor, message_id: int, *, lock: bool = False
) -> tuple[Member, Chat, Message]:
    """The message, its chat and the caller's membership; `lock` holds the message row until commit."""
    return await _in_chat(session, actor, Message, message_id, "message", lock)


async def suggestion_for(
    session: AsyncSession, actor: Actor, suggestion_id: int, *, lock: bool = False
) -> tuple[Member, Chat, Suggestion]:
    """The suggestion, its chat and the caller's membership; `lock` holds the suggestion until commit."""
    return await _in_chat(session, actor, Suggestion, suggestion_id, "suggestion", lock)


_InChat = TypeVar("_InChat", Message, Suggestion)


async def _in_chat(
    session: AsyncSession, actor: Actor, model: type[_InChat], row_id: int, what: str, lock: bool
) -> tuple[Member, Chat, _InChat]:
    """A row of a chat (`model`), its chat and the caller's membership; `missing` if the caller may not
    see it; `lock` holds the row until commit."""
    statement = (
        select(model, Chat, Membership.role)
        .join(Chat, Chat.id == model.chat_id)
        .join(Membership, _membership(actor, Chat.workspace_id))
        .where(model.id == row_id)
    )
    if lock:
        statement = statement.with_for_update(of=model)
    row = (await session.execute(statement)).one_or_none()
    if row is None:
        raise await missing(session, actor, what)
    found, chat, role = row
    return Member(actor.user_id, chat.workspace_id, role), chat, found


async def notification_for(session: AsyncSession, actor: Actor, notification_id: int) -> Notification:
    """A notification of one of the caller's workspaces, or an announcement (any member of any workspace)."""
    workspaces = select(Membership.workspace_id).where(
        Membership.user_id == actor.user_id, is_token_user(actor)
    )
    notification = await session.scalar(
        select(Notification).where(
            Notification.id == notification_id,
            or_(
                Notification.workspace_id.in_(workspaces),
                and_(Notification.workspace_id.is_(None), exists(workspaces)),
            ),
        )
    )
    if notification is None:
        raise await missing(session, actor, "notification")
    return notification
