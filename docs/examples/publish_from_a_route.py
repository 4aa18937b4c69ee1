"""The developer guide's publishing example, runnable: a route that emits an event in its own transaction.

`tests/test_developer_guide.py` mounts this router on the real app, calls it, and checks that the guide
quotes this file's code verbatim, so the guide's example cannot drift from code that runs.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from waxos.api.current_user import CurrentUserDep
from waxos.api.deps import SessionDep
from waxos.api.errors import ApiError
from waxos.auth.service import membership_role
from waxos.channels.names import private_workspace_channel
from waxos.events import MessageNew, emit

router = APIRouter(prefix="/api/v1/example")


class Published(BaseModel):
    """Where the event went and its place there."""

    channel: str
    seq: int


# --- guide: start
@router.post("/workspaces/{workspace_id}/chats/{chat_id}/messages/{message_id}/sent")
async def message_sent(
    workspace_id: int, chat_id: int, message_id: int, session: SessionDep, user: CurrentUserDep
) -> Published:
    """Tell the workspace's subscribers that a message was sent, in the transaction that records it."""
    if await membership_role(session, user.id, workspace_id) is None:
        raise ApiError(404, "not_found", "no such workspace")
    # ... your feature's own writes go through `session` here ...
    envelope = await emit(
        session,
        private_workspace_channel(workspace_id, "chats"),
        MessageNew(
            chat_id=chat_id,
            message_id=message_id,
            direction="outbound",
            sender_type="staff",
            sender_id=user.id,
        ),
    )  # the same transaction: the route returns, it commits, the relay is woken
    return Published(channel=envelope.channel, seq=envelope.seq)


# --- guide: end
