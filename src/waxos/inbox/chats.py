"""Chats: open one, list and read them, close or reopen, assign and unassign; each change emits its event."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from waxos.auth.models import Membership
from waxos.channels.names import chats_channel, user_channel
from waxos.db.base import utcnow
from waxos.events import ChatAssigned, ChatNew, ChatStatusChanged, ChatUnassigned
from waxos.inbox.access import Actor, chat_for, member_of
from waxos.inbox.errors import Conflict, Unprocessable
from waxos.inbox.models import Chat, ChatStatus
from waxos.inbox.outbox import Outbox
from waxos.inbox.pages import decode_cursor, encode_cursor
from waxos.inbox.schemas import Customer


async def create_chat(session: AsyncSession, actor: Actor, workspace_id: int, customer: Customer) -> Chat:
    """Open a chat with `customer` in the workspace; `chat.new` on its chats channel."""
    await member_of(session, actor, workspace_id)
    now = utcnow()
    chat = Chat(
        workspace_id=workspace_id,
        customer_name=customer.name,
        customer_handle=customer.handle,
        status=ChatStatus.OPEN.value,
        created_at=now,
        updated_at=now,
    )
    session.add(chat)
    await session.flush()
    outbox = Outbox(actor.socket_id)
    outbox.add(
        chats_channel(workspace_id), ChatNew(chat_id=chat.id, status="open", created_by_id=actor.user_id)
    )
    await outbox.emit(session)
    return chat


async def list_chats(
    session: AsyncSession,
    actor: Actor,
    workspace_id: int,
    *,
    status: ChatStatus | None,
    assignee_id: int | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Chat], str | None]:
    """A page of the workspace's chats, newest first, and the cursor of the next page (None at the end)."""
    await member_of(session, actor, workspace_id)
    statement = select(Chat).where(Chat.workspace_id == workspace_id)
    if status is not None:
        statement = statement.where(Chat.status == status.value)
    if assignee_id is not None:
        statement = statement.where(Chat.assignee_id == assignee_id)
    before = decode_cursor(cursor)
    if before is not None:
        statement = statement.where(Chat.id < before)
    chats = list(await session.scalars(statement.order_by(Chat.id.desc()).limit(limit + 1)))
    if len(chats) > limit:
        return chats[:limit], encode_cursor(chats[limit - 1].id)
    return chats, None


async def get_chat(session: AsyncSession, actor: Actor, chat_id: int) -> Chat:
    """One chat of a workspace the caller belongs to."""
    _member, chat = await chat_for(session, actor, chat_id)
    return chat


async def set_status(session: AsyncSession, actor: Actor, chat_id: int, status: ChatStatus) -> Chat:
    """Close an open chat or reopen a closed one (else `Conflict`); `chat.status`."""
    _member, chat = await chat_for(session, actor, chat_id, lock=True)
    if chat.status == status.value:
        raise Conflict(
            "invalid_transition", f"the chat is already {status.value}", current_status=chat.status
        )
    previous = chat.status
    chat.status = status.value
    chat.updated_at = utcnow()
    outbox = Outbox(actor.socket_id)
    outbox.add(
        chats_channel(chat.workspace_id),
        ChatStatusChanged(
            chat_id=chat.id,
            status=status.value,
            previous_status=previous,
            changed_by_id=actor.user_id,
        ),
    )
    await session.flush()
    await outbox.emit(session)
    return chat


async def assign(session: AsyncSession, actor: Actor, chat_id: int, user_id: int) -> Chat:
    """Give the chat to a member of its workspace (else `Unprocessable`); no event if nothing changes.

    `chat.assigned` goes to the workspace's chats channel and to the new and the previous assignee.
    """
    _member, chat = await chat_for(session, actor, chat_id, lock=True)
    if chat.assignee_id == user_id:
        return chat
    # FOR SHARE on PostgreSQL (SQLite's write transaction already excludes every other writer): a removal
    # of this member, which locks the membership FOR UPDATE, waits for this assignment to commit and then
    # finds the chat among the member's and unassigns it; without the lock, the chat could end up assigned
    # to a user who is no longer a member, and its events go on reaching their own channel.
    is_member = await session.scalar(
        select(Membership.user_id)
        .where(Membership.workspace_id == chat.workspace_id, Membership.user_id == user_id)
        .with_for_update(read=True)
    )
    if is_member is None:
        raise Unprocessable("not_a_member", "the assignee must be a member of the chat's workspace")
    previous = chat.assignee_id
    chat.assignee_id = user_id
    chat.updated_at = utcnow()
    outbox = Outbox(actor.socket_id)
    channels = [chats_channel(chat.workspace_id), user_channel(user_id)]
    if previous is not None:
        channels.append(user_channel(previous))
    outbox.add(
        channels,
        ChatAssigned(
            chat_id=chat.id, assignee_id=user_id, previous_assignee_id=previous, assigned_by_id=actor.user_id
        ),
    )
    await session.flush()
    await outbox.emit(session)
    return chat


async def unassign(session: AsyncSession, actor: Actor, chat_id: int) -> Chat:
    """Take the chat from its assignee; `chat.unassigned` to the workspace and that user (if any)."""
    _member, chat = await chat_for(session, actor, chat_id, lock=True)
    previous = chat.assignee_id
    if previous is None:
        return chat
    chat.assignee_id = None
    chat.updated_at = utcnow()
    outbox = Outbox(actor.socket_id)
    unassigned = ChatUnassigned(
        chat_id=chat.id, previous_assignee_id=previous, unassigned_by_id=actor.user_id
    )
    outbox.add([chats_channel(chat.workspace_id), user_channel(previous)], unassigned)
    await session.flush()
    await outbox.emit(session)
    return chat
