"""Messages: send (idempotent by `client_id`), list, read, receipts, edit, delete; each change emits.

Sending is the hottest write of the product, so it is a few prepared statements rather than ORM work:
the chat and the caller's membership in one query, the insert (which also settles a retried `client_id`)
with RETURNING, and the event. On PostgreSQL the first two are one statement (a data-modifying CTE): each
round trip costs a send a tenth of its CPU.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any, cast

from sqlalchemy import Boolean, Executable, Row, Table, and_, bindparam, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from waxos.auth.models import Membership, User
from waxos.channels.names import chats_channel
from waxos.db.base import utcnow
from waxos.events import ChatStatusChanged, MessageDeleted, MessageNew, MessageStatus, MessageUpdated
from waxos.inbox.access import Actor, chat_for, message_for, missing
from waxos.inbox.errors import Conflict, Forbidden, TooLarge, Unprocessable
from waxos.inbox.models import Chat, ChatStatus, Delivery, Direction, Message
from waxos.inbox.outbox import Outbox
from waxos.inbox.schemas import MAX_TEXT_CHARS

_messages = cast(Table, Message.__table__)
# Receipts only move forward.
_ORDER = {Delivery.SENT.value: 0, Delivery.DELIVERED.value: 1, Delivery.READ.value: 2}

_CHAT_OF_MEMBER = (
    select(Chat.workspace_id, Chat.status)
    .join(
        Membership,
        and_(Membership.workspace_id == Chat.workspace_id, Membership.user_id == bindparam("user_id")),
    )
    # The member is the token's user, not another one given the same id (see `access.Actor`).
    .join(User, and_(User.id == Membership.user_id, User.token_generation == bindparam("generation")))
    .where(Chat.id == bindparam("chat_id"))
)
_REOPEN = (
    update(Chat)
    .where(Chat.id == bindparam("chat_id"), Chat.status == ChatStatus.CLOSED.value)
    .values(status=ChatStatus.OPEN.value, updated_at=bindparam("now"))
)
_BY_CLIENT_ID = select(_messages).where(
    _messages.c.chat_id == bindparam("chat_id"), _messages.c.client_id == bindparam("client_id")
)


def check_length(text: str) -> str:
    """`text` if the inbox stores texts that long, else `TooLarge` (answered 413)."""
    if len(text) > MAX_TEXT_CHARS:
        raise TooLarge("text_too_large", f"at most {MAX_TEXT_CHARS} characters", limit=MAX_TEXT_CHARS)
    return text


_COLUMNS = tuple(_messages.c.keys())
_GIVEN = tuple(name for name in _COLUMNS if name != "id")  # what a send supplies; the id is the database's


@cache
def _insert(dialect: str) -> Executable:
    """INSERT … ON CONFLICT (chat_id, client_id) DO NOTHING RETURNING *, built once per dialect."""
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(_messages)
    statement = insert.on_conflict_do_nothing(index_elements=["chat_id", "client_id"])
    return cast(Executable, statement.returning(*_messages.c))


@cache
def _access_and_insert() -> Executable:
    """PostgreSQL: `_CHAT_OF_MEMBER` and `_insert` in one round trip. One row when the caller may see the
    chat: its `workspace_id` and `chat_status`, and the new message's columns, all NULL when nothing was
    inserted (an outbound message to a closed chat, which inserts nothing, or a retried `client_id`)."""
    access = _CHAT_OF_MEMBER.cte("access")
    # An outbound message needs an open chat; `inbound` is true for an inbound one.
    rows = select(*(bindparam(name, type_=_messages.c[name].type) for name in _GIVEN)).where(
        or_(access.c.status != ChatStatus.CLOSED.value, bindparam("inbound", type_=Boolean))
    )
    insert = postgresql.insert(_messages).from_select(_GIVEN, rows.select_from(access))
    new = (
        insert.on_conflict_do_nothing(index_elements=["chat_id", "client_id"])
        .returning(*_messages.c)
        .cte("new")
    )
    return select(access.c.workspace_id, access.c.status.label("chat_status"), *new.c).select_from(
        access.outerjoin(new, true())
    )


async def _check_and_insert(
    session: AsyncSession, actor: Actor, chat_id: int, values: dict[str, Any], outbound: bool
) -> tuple[int, str, Row[Any] | None]:
    """The chat's workspace and status, and the inserted message (None: not inserted); `missing` when the
    caller may not see the chat, `Conflict` for an outbound message to a closed chat."""
    parameters = {"user_id": actor.user_id, "generation": actor.generation, "chat_id": chat_id}
    dialect = session.get_bind().dialect.name
    access: Any
    if dialect == "postgresql":
        both = await session.execute(_access_and_insert(), {**parameters, **values, "inbound": not outbound})
        access = both.first()
    else:
        access = (await session.execute(_CHAT_OF_MEMBER, parameters)).first()
    if access is None:
        raise await missing(session, actor, "chat")
    workspace_id, chat_status = access[0], access[1]
    if chat_status == ChatStatus.CLOSED.value and outbound:
        raise Conflict("chat_closed", "reopen the chat before replying", current_status=chat_status)
    if dialect == "postgresql":
        return workspace_id, chat_status, None if access.id is None else access
    return workspace_id, chat_status, (await session.execute(_insert(dialect), values)).first()


async def send_message(
    session: AsyncSession, actor: Actor, chat_id: int, body: str, direction: Direction, client_id: str | None
) -> tuple[Mapping[str, Any], bool]:
    """Add a message to the chat; returns its columns and whether it is new (False: an earlier `client_id`
    send).

    An outbound message needs an open chat (`Conflict`); an inbound one reopens a closed chat
    (`chat.status`). `message.new` on the workspace's chats channel.
    """
    check_length(body)
    outbound = direction is Direction.OUTBOUND
    outbox = Outbox(actor.socket_id)
    now = utcnow()
    values = {
        "chat_id": chat_id,
        "direction": direction.value,
        "body": body,
        "status": Delivery.SENT.value,
        "client_id": client_id,
        "sender_id": actor.user_id if outbound else None,
        "version": 1,
        "created_at": now,
        "updated_at": now,
        "status_at": now,
    }
    workspace_id, chat_status, row = await _check_and_insert(session, actor, chat_id, values, outbound)
    closed = chat_status == ChatStatus.CLOSED.value
    if row is None:
        # This chat already has a message with that client_id: a retried send gets the first message.
        first = (await session.execute(_BY_CLIENT_ID, {"chat_id": chat_id, "client_id": client_id})).one()
        if (first.body, first.direction) != (body, direction.value):
            raise Conflict("client_id_reused", "this client_id was used for a different message", id=first.id)
        return dict(first._mapping), False
    # Reopened only by a message that is new: a retried send of one that came before the chat was closed
    # returns that message above and changes nothing.
    if closed and cast(Any, await session.execute(_REOPEN, {"chat_id": chat_id, "now": now})).rowcount:
        outbox.add(
            chats_channel(workspace_id),
            ChatStatusChanged(chat_id=chat_id, status="open", previous_status="closed"),
        )
    outbox.add(
        chats_channel(workspace_id),
        MessageNew(
            chat_id=chat_id,
            message_id=row.id,
            direction=direction.value,
            sender_type="staff" if outbound else "contact",
            sender_id=row.sender_id,
        ),
    )
    await outbox.emit(session)
    return {name: row._mapping[name] for name in _COLUMNS}, True


async def list_messages(
    session: AsyncSession, actor: Actor, chat_id: int, after: int, limit: int
) -> tuple[list[Message], bool]:
    """Messages of the chat with ids after `after`, oldest first, and whether more follow."""
    await chat_for(session, actor, chat_id)
    messages = list(
        await session.scalars(
            select(Message)
            .where(Message.chat_id == chat_id, Message.id > after)
            .order_by(Message.id)
            .limit(limit + 1)
        )
    )
    return messages[:limit], len(messages) > limit


async def get_message(session: AsyncSession, actor: Actor, message_id: int) -> Message:
    """One message of a chat in one of the caller's workspaces."""
    _member, _chat, message = await message_for(session, actor, message_id)
    return message


async def set_delivery(session: AsyncSession, actor: Actor, message_id: int, status: Delivery) -> Message:
    """A delivery or read receipt: sent -> delivered -> read, forward only (else `Conflict`)."""
    _member, chat, message = await message_for(session, actor, message_id, lock=True)
    if _ORDER[status.value] <= _ORDER[message.status]:
        raise Conflict(
            "invalid_transition",
            f"a {message.status} message cannot become {status.value}",
            current_status=message.status,
        )
    now = utcnow()
    message.status = status.value
    message.status_at = message.updated_at = now
    outbox = Outbox(actor.socket_id)
    outbox.add(
        chats_channel(chat.workspace_id),
        MessageStatus(chat_id=chat.id, message_id=message.id, status=status.value, status_at=now),
    )
    await session.flush()
    await outbox.emit(session)
    return message


async def edit_message(session: AsyncSession, actor: Actor, message_id: int, body: str) -> Message:
    """Change an outbound message's text, by its sender only; `message.updated` with the new version."""
    check_length(body)
    _member, chat, message = await message_for(session, actor, message_id, lock=True)
    if message.direction != Direction.OUTBOUND.value:
        raise Conflict("not_editable", "only outbound messages can be edited")
    if message.sender_id != actor.user_id:
        raise Forbidden("not_sender", "only the sender may edit a message")
    if message.body == body:
        return message
    message.body = body
    message.version += 1
    message.updated_at = utcnow()
    outbox = Outbox(actor.socket_id)
    outbox.add(
        chats_channel(chat.workspace_id),
        MessageUpdated(chat_id=chat.id, message_id=message.id, version=message.version, changed=("body",)),
    )
    await session.flush()
    await outbox.emit(session)
    return message


async def delete_message(session: AsyncSession, actor: Actor, message_id: int) -> None:
    """Delete a message: its sender (outbound) or a workspace admin; `message.deleted`."""
    member, chat, message = await message_for(session, actor, message_id, lock=True)
    if message.sender_id != actor.user_id and not member.is_admin:
        raise Forbidden("not_sender", "only the sender or a workspace admin may delete a message")
    await session.delete(message)
    outbox = Outbox(actor.socket_id)
    outbox.add(chats_channel(chat.workspace_id), MessageDeleted(chat_id=chat.id, message_id=message_id))
    await session.flush()
    await outbox.emit(session)


async def mark_read(session: AsyncSession, actor: Actor, chat_id: int, up_to_message_id: int) -> int:
    """Mark every inbound message of the chat up to `up_to_message_id` read; how many changed.

    One `message.status` (`applies_to: inbound_up_to`) stands for the whole range; none if nothing changed.
    """
    _member, chat = await chat_for(session, actor, chat_id)
    found = await session.scalar(
        select(Message.id).where(Message.id == up_to_message_id, Message.chat_id == chat_id)
    )
    if found is None:
        raise Unprocessable("unknown_message", "up_to_message_id is not a message of this chat")
    now = utcnow()
    result = await session.execute(
        update(Message)
        .where(
            Message.chat_id == chat_id,
            Message.id <= up_to_message_id,
            Message.direction == Direction.INBOUND.value,
            Message.status != Delivery.READ.value,
        )
        .values(status=Delivery.READ.value, status_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    marked = int(cast(Any, result).rowcount)
    if marked:
        outbox = Outbox(actor.socket_id)
        outbox.add(
            chats_channel(chat.workspace_id),
            MessageStatus(
                chat_id=chat_id,
                message_id=up_to_message_id,
                status="read",
                status_at=now,
                applies_to="inbound_up_to",
            ),
        )
        await outbox.emit(session)
    return marked
