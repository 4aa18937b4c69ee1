"""Request and response bodies of the inbox endpoints."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PositiveInt

from waxos.auth.models import EMAIL_LENGTH, NAME_LENGTH, Invitation, Membership, Role, User
from waxos.inbox.models import (
    CLIENT_ID_LENGTH,
    Chat,
    ChatStatus,
    Delivery,
    Direction,
    Level,
    SuggestionStatus,
)
from waxos.text import MultilineText, SingleLineText

# A message or suggestion longer than this is refused with 413 (checked by the service, not here, so the
# answer is "too large" rather than "malformed").
MAX_TEXT_CHARS = 10_000
_CODE = r"^[a-z][a-z0-9_]{0,63}$"


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


# Control characters are refused by the shared types of `waxos.text`.
Line = Annotated[SingleLineText, Field(min_length=1, max_length=NAME_LENGTH), AfterValidator(_not_blank)]
"""One line of text: a name, a handle."""

Text = Annotated[MultilineText, Field(min_length=1), AfterValidator(_not_blank)]
"""A message body: any length up to `MAX_TEXT_CHARS` (checked by the service), newlines and tabs allowed."""

ClientId = Annotated[str, Field(min_length=1, max_length=CLIENT_ID_LENGTH, pattern=r"^[\x21-\x7e]+$")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Customer(_Body):
    """Who the chat is with: a display name and their handle on the messaging channel."""

    name: Line
    handle: Line


class ChatCreate(_Body):
    """`POST /workspaces/{id}/chats`."""

    customer: Customer


class ChatPatch(_Body):
    """`PATCH /chats/{id}`: close or reopen."""

    status: ChatStatus


class ChatOut(BaseModel):
    """A chat."""

    id: int
    workspace_id: int
    customer: Customer
    status: ChatStatus
    assignee_id: int | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, chat: Chat) -> ChatOut:
        """The chat as the API shows it."""
        return cls(
            id=chat.id,
            workspace_id=chat.workspace_id,
            customer=Customer.model_construct(name=chat.customer_name, handle=chat.customer_handle),
            status=ChatStatus(chat.status),
            assignee_id=chat.assignee_id,
            created_at=chat.created_at,
            updated_at=chat.updated_at,
        )


class ChatPage(BaseModel):
    """A page of chats, newest first; pass `next_cursor` as `cursor` for the next page."""

    items: list[ChatOut]
    next_cursor: str | None = Field(description="Opaque; null on the last page")


class MessageCreate(_Body):
    """`POST /chats/{id}/messages`; the same `client_id` again returns the first message."""

    body: Text
    direction: Direction
    client_id: ClientId | None = None


class MessagePatch(_Body):
    """`PATCH /messages/{id}`: a receipt (`status`) or an edit (`body`), one at a time."""

    status: Literal[Delivery.DELIVERED, Delivery.READ] | None = None
    body: Text | None = None


class MessageOut(BaseModel):
    """A message."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    chat_id: int
    direction: Direction
    body: str
    status: Delivery
    client_id: str | None
    sender_id: int | None
    version: int
    created_at: datetime
    updated_at: datetime
    status_at: datetime


class MessagePage(BaseModel):
    """Messages after a position, oldest first; pass `next_after` as `after` while `has_more`."""

    items: list[MessageOut]
    next_after: int = Field(description="The last id returned (or the `after` given, if none)")
    has_more: bool


class ReadUpTo(_Body):
    """`POST /chats/{id}/read`: every inbound message up to this one (of the chat) is read."""

    up_to_message_id: PositiveInt


class ReadResult(BaseModel):
    """How many inbound messages the receipt changed (0: all were read already; no event then)."""

    chat_id: int
    up_to_message_id: int
    marked: int


class AssigneeSet(_Body):
    """`PUT /chats/{id}/assignee`: a member of the chat's workspace."""

    user_id: PositiveInt


class SuggestionCreate(_Body):
    """`POST /chats/{id}/suggestions`: the AI co-pilot's proposed reply."""

    body: Text


class SuggestionAccept(_Body):
    """`POST /suggestions/{id}/accept`, optionally with the text as edited by the user."""

    body: Text | None = None


class SuggestionOut(BaseModel):
    """An AI suggestion and what became of it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    chat_id: int
    body: str
    status: SuggestionStatus
    message_id: int | None
    decided_by_id: int | None
    created_at: datetime
    decided_at: datetime | None


class Accepted(BaseModel):
    """The accepted suggestion and the message it became."""

    suggestion: SuggestionOut
    message: MessageOut


class NotificationCreate(_Body):
    """`POST /workspaces/{id}/notifications` or `/announcements`; `code` is a machine code to localise."""

    level: Level
    code: Annotated[str, Field(pattern=_CODE, examples=["maintenance_window"])]


class NotificationOut(BaseModel):
    """A notification; `workspace_id` null marks an announcement to every workspace."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    workspace_id: int | None
    level: Level
    code: str
    created_by_id: int | None
    created_at: datetime


class NotificationPage(BaseModel):
    """A page of notifications, newest first."""

    items: list[NotificationOut]
    next_cursor: str | None


class AnnouncementOut(BaseModel):
    """An announcement queued for every workspace; its events are logged in batches after the answer."""

    notification: NotificationOut
    workspaces: int = Field(description="How many workspaces it is being fanned out to")


def _email(value: str) -> str:
    address = value.strip().lower()
    if not re.fullmatch(r"[^@\s]+@[^@\s]+", address):
        raise ValueError("must be an email address: local-part@domain")
    return address


Email = Annotated[
    SingleLineText,
    Field(min_length=3, max_length=EMAIL_LENGTH, examples=["agent2@acme.test"]),
    AfterValidator(_email),
]
"""An email address, compared as login compares it: surrounding blanks dropped, lower-cased."""


class MemberInvite(_Body):
    """`POST /workspaces/{id}/members`: invite an email address, with the role it will have on accepting."""

    email: Email
    role: Role


class InvitationSent(BaseModel):
    """The answer to an invitation: the same whether or not an account has the email."""

    status: Literal["invited"] = "invited"
    invitation_id: int
    email: str
    role: Role
    expires_at: datetime

    @classmethod
    def of(cls, invitation: Invitation) -> InvitationSent:
        """What the inviting admin is told."""
        return cls(
            invitation_id=invitation.id,
            email=invitation.email,
            role=invitation.role,
            expires_at=invitation.expires_at,
        )


class InvitationOut(BaseModel):
    """A workspace's invitation as its admins see it; `expired` ones can be renewed by inviting again."""

    id: int
    email: str
    role: Role
    invited_by_id: int
    invited_at: datetime
    expires_at: datetime
    expired: bool


class InvitationPage(BaseModel):
    """A page of a workspace's invitations, by id."""

    items: list[InvitationOut]
    next_cursor: str | None


class MyInvitationOut(BaseModel):
    """An invitation as its invitee sees it: which workspace, which role, who invited and when."""

    id: int
    workspace_id: int
    workspace_name: str
    role: Role
    invited_by_name: str
    invited_at: datetime
    expires_at: datetime


class MyInvitations(BaseModel):
    """The caller's pending invitations, newest first."""

    items: list[MyInvitationOut]


class Joined(BaseModel):
    """The membership an accepted invitation made."""

    workspace_id: int
    workspace_name: str
    role: Role
    joined_at: datetime


class MemberPatch(_Body):
    """`PATCH /workspaces/{id}/members/{user_id}`."""

    role: Role


class MemberOut(BaseModel):
    """A member of a workspace."""

    user_id: int
    email: str
    name: str
    role: Role
    joined_at: datetime

    @classmethod
    def of(cls, membership: Membership, user: User) -> MemberOut:
        """The member as the API shows them."""
        return cls(
            user_id=user.id,
            email=user.email,
            name=user.name,
            role=membership.role,
            joined_at=membership.created_at,
        )


class MemberPage(BaseModel):
    """A page of members, by user id."""

    items: list[MemberOut]
    next_cursor: str | None
