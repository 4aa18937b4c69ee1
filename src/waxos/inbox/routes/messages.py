"""Message routes: send, list, read, receipts, edit, delete, and the coalesced read receipt."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from waxos.api.deps import ReadSessionDep, SessionDep
from waxos.api.openapi import emits
from waxos.events import ChatStatusChanged, MessageDeleted, MessageNew, MessageStatus, MessageUpdated
from waxos.inbox import messages
from waxos.inbox.errors import Unprocessable
from waxos.inbox.models import Delivery
from waxos.inbox.pages import DEFAULT_LIMIT, MAX_LIMIT
from waxos.inbox.routes.deps import ActorDep, errors
from waxos.inbox.schemas import MessageCreate, MessageOut, MessagePage, MessagePatch, ReadResult, ReadUpTo

router = APIRouter(prefix="/api/v1", tags=["messages"])


@router.post(
    "/chats/{chat_id}/messages",
    status_code=201,
    summary="Send or record a message",
    responses=errors(
        (200, "a message with this `client_id` already existed: it is returned, nothing changes"),
        (409, "an outbound message to a closed chat, or a `client_id` reused for a different message"),
    ),
    response_model=MessageOut,
    openapi_extra=emits(MessageNew, ChatStatusChanged),
)
async def send_message(chat_id: int, body: MessageCreate, session: SessionDep, actor: ActorDep) -> Response:
    """201 with the new message (`status` "sent"); an inbound message reopens a closed chat."""
    columns, created = await messages.send_message(
        session, actor, chat_id, body.body, body.direction, body.client_id
    )
    # Encoded once, here: FastAPI would validate the model again and encode it in two more steps.
    return Response(
        MessageOut.model_validate(columns).model_dump_json(),
        status_code=201 if created else 200,
        media_type="application/json",
    )


@router.get("/chats/{chat_id}/messages", summary="List a chat's messages, oldest first", responses=errors())
async def list_messages(
    chat_id: int,
    session: ReadSessionDep,
    actor: ActorDep,
    after: Annotated[int, Query(ge=0, description="Only messages with a greater id; 0 from the start")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
) -> MessagePage:
    """Pass `next_after` as `after` while `has_more`."""
    page, has_more = await messages.list_messages(session, actor, chat_id, after, limit)
    return MessagePage(
        items=[MessageOut.model_validate(m) for m in page],
        next_after=page[-1].id if page else after,
        has_more=has_more,
    )


@router.get("/messages/{message_id}", summary="Read a message", responses=errors())
async def get_message(message_id: int, session: ReadSessionDep, actor: ActorDep) -> MessageOut:
    """One message."""
    return MessageOut.model_validate(await messages.get_message(session, actor, message_id))


@router.patch(
    "/messages/{message_id}",
    summary="Record a receipt, or edit an outbound message",
    responses=errors(
        (403, "an edit by someone other than the sender"),
        (409, "a receipt that does not move forward (sent -> delivered -> read), or an inbound edit"),
        (422, "neither or both of `status` and `body`"),
    ),
    openapi_extra=emits(MessageStatus, MessageUpdated),
)
async def patch_message(
    message_id: int, body: MessagePatch, session: SessionDep, actor: ActorDep
) -> MessageOut:
    """`{"status": "delivered" | "read"}` emits `message.status`; `{"body": …}` emits `message.updated`."""
    if body.status is not None and body.body is None:
        message = await messages.set_delivery(session, actor, message_id, Delivery(body.status))
    elif body.body is not None and body.status is None:
        message = await messages.edit_message(session, actor, message_id, body.body)
    else:
        raise Unprocessable("invalid_request", "send exactly one of status and body")
    return MessageOut.model_validate(message)


@router.delete(
    "/messages/{message_id}",
    status_code=204,
    summary="Delete a message",
    responses=errors((403, "neither the sender nor a workspace admin")),
    openapi_extra=emits(MessageDeleted),
)
async def delete_message(message_id: int, session: SessionDep, actor: ActorDep) -> None:
    """The sender (outbound) or a workspace admin."""
    await messages.delete_message(session, actor, message_id)


@router.post(
    "/chats/{chat_id}/read",
    summary="Mark the chat's inbound messages read up to one message",
    responses=errors((422, "`up_to_message_id` is not a message of this chat")),
    openapi_extra=emits(MessageStatus),
)
async def read_up_to(chat_id: int, body: ReadUpTo, session: SessionDep, actor: ActorDep) -> ReadResult:
    """One `message.status` (`applies_to: inbound_up_to`) for the whole range, none if nothing changed."""
    marked = await messages.mark_read(session, actor, chat_id, body.up_to_message_id)
    return ReadResult(chat_id=chat_id, up_to_message_id=body.up_to_message_id, marked=marked)
