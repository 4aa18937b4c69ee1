"""AI suggestions: the co-pilot proposes a reply; staff send it (maybe edited) or discard it.

Who hears about a suggestion: the chat's assignee on their own channel, or every admin of the workspace
while the chat is unassigned; the text itself never travels through Pusher (clients fetch it).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from waxos.auth.models import Membership, Role
from waxos.channels.names import chats_channel, user_channel
from waxos.db.base import utcnow
from waxos.events import AiSuggestionAccepted, AiSuggestionDiscarded, AiSuggestionReady, MessageNew
from waxos.inbox.access import Actor, chat_for, suggestion_for
from waxos.inbox.errors import Conflict, NotFound
from waxos.inbox.messages import check_length
from waxos.inbox.models import Chat, ChatStatus, Delivery, Direction, Message, Suggestion, SuggestionStatus
from waxos.inbox.outbox import Outbox


@dataclass(frozen=True, slots=True)
class AiService:
    """The AI worker, authenticated by a service token: it may post suggestions to any chat."""


async def audience(session: AsyncSession, chat: Chat) -> list[str]:
    """The user channels that hear about the chat's suggestions: its assignee, else the workspace's admins."""
    if chat.assignee_id is not None:
        return [user_channel(chat.assignee_id)]
    admins = await session.scalars(
        select(Membership.user_id)
        .where(Membership.workspace_id == chat.workspace_id, Membership.role == Role.ADMIN)
        .order_by(Membership.user_id)
    )
    return [user_channel(admin) for admin in admins]


async def create_suggestion(
    session: AsyncSession, caller: Actor | AiService, chat_id: int, body: str
) -> Suggestion:
    """A new suggestion for the chat; an earlier one still waiting is superseded (discarded).

    The AI service may post to any chat; a user must be an admin of the chat's workspace.
    """
    check_length(body)
    if isinstance(caller, Actor):
        member, chat = await chat_for(session, caller, chat_id, lock=True)
        member.require_admin("post AI suggestions")
    else:
        found = await session.get(Chat, chat_id, with_for_update=True)
        if found is None:
            raise NotFound("chat")
        chat = found
    listeners = await audience(session, chat)
    outbox = Outbox(caller.socket_id if isinstance(caller, Actor) else None)
    now = utcnow()
    waiting = await session.scalars(
        select(Suggestion)
        .where(Suggestion.chat_id == chat_id, Suggestion.status == SuggestionStatus.READY.value)
        .order_by(Suggestion.id)
    )
    for earlier in waiting:
        earlier.status = SuggestionStatus.DISCARDED.value
        earlier.decided_at = now
        outbox.add(listeners, AiSuggestionDiscarded(chat_id=chat_id, suggestion_id=earlier.id))
    suggestion = Suggestion(chat_id=chat_id, body=body, status=SuggestionStatus.READY.value, created_at=now)
    session.add(suggestion)
    await session.flush()
    outbox.add(listeners, AiSuggestionReady(chat_id=chat_id, suggestion_id=suggestion.id))
    await outbox.emit(session)
    return suggestion


async def list_waiting(session: AsyncSession, actor: Actor, chat_id: int) -> list[Suggestion]:
    """The chat's suggestions still waiting for a decision (at most one, unless several raced in)."""
    await chat_for(session, actor, chat_id)
    return list(
        await session.scalars(
            select(Suggestion)
            .where(Suggestion.chat_id == chat_id, Suggestion.status == SuggestionStatus.READY.value)
            .order_by(Suggestion.id)
        )
    )


async def get_suggestion(session: AsyncSession, actor: Actor, suggestion_id: int) -> Suggestion:
    """One suggestion of a chat in one of the caller's workspaces."""
    _member, _chat, suggestion = await suggestion_for(session, actor, suggestion_id)
    return suggestion


def _decide(suggestion: Suggestion, status: SuggestionStatus, actor: Actor) -> None:
    if suggestion.status != SuggestionStatus.READY.value:
        raise Conflict(
            "already_decided",
            f"the suggestion was already {suggestion.status}",
            current_status=suggestion.status,
        )
    suggestion.status = status.value
    suggestion.decided_by_id = actor.user_id
    suggestion.decided_at = utcnow()


async def accept(
    session: AsyncSession, actor: Actor, suggestion_id: int, edited: str | None
) -> tuple[Suggestion, Message]:
    """Send the suggestion (or the user's edit of it) as an outbound message from the caller.

    `message.new` on the chats channel, `ai.suggestion_accepted` to the suggestion's audience.
    """
    _member, chat, suggestion = await suggestion_for(session, actor, suggestion_id, lock=True)
    text = check_length(edited if edited is not None else suggestion.body)
    if chat.status != ChatStatus.OPEN.value and suggestion.status == SuggestionStatus.READY.value:
        raise Conflict("chat_closed", "reopen the chat before replying", current_status=chat.status)
    _decide(suggestion, SuggestionStatus.ACCEPTED, actor)
    now = utcnow()
    message = Message(
        chat_id=chat.id,
        direction=Direction.OUTBOUND.value,
        body=text,
        status=Delivery.SENT.value,
        sender_id=actor.user_id,
        version=1,
        created_at=now,
        updated_at=now,
        status_at=now,
    )
    session.add(message)
    await session.flush()
    suggestion.message_id = message.id
    outbox = Outbox(actor.socket_id)
    outbox.add(
        chats_channel(chat.workspace_id),
        MessageNew(
            chat_id=chat.id,
            message_id=message.id,
            direction="outbound",
            sender_type="staff",
            sender_id=actor.user_id,
        ),
    )
    outbox.add(
        await audience(session, chat),
        AiSuggestionAccepted(chat_id=chat.id, suggestion_id=suggestion.id, message_id=message.id),
    )
    await session.flush()
    await outbox.emit(session)
    return suggestion, message


async def discard(session: AsyncSession, actor: Actor, suggestion_id: int) -> Suggestion:
    """Drop the suggestion; `ai.suggestion_discarded` to its audience."""
    _member, chat, suggestion = await suggestion_for(session, actor, suggestion_id, lock=True)
    _decide(suggestion, SuggestionStatus.DISCARDED, actor)
    outbox = Outbox(actor.socket_id)
    outbox.add(
        await audience(session, chat), AiSuggestionDiscarded(chat_id=chat.id, suggestion_id=suggestion.id)
    )
    await session.flush()
    await outbox.emit(session)
    return suggestion
