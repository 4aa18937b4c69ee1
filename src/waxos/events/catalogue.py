"""The event catalogue and the envelope: one typed model per `resource.action`, ids and metadata only.

Payloads never carry message bodies or personal data (names, emails, phone numbers): a client that needs
the full object fetches it through the API. Every model forbids unknown fields, so a feature cannot slip a
body into an event by accident.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, TypeAdapter

_CODE = r"^[a-z][a-z0-9_]{0,63}$"


class Event(BaseModel):
    """Base of every catalogued event; subclasses pin `type` with a Literal."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str

    def data(self) -> dict[str, Any]:
        """The payload as JSON-ready values, without the `type` (the envelope carries it)."""
        return self.model_dump(mode="json", exclude={"type"})


class MessageNew(Event):
    """A message was added to a chat."""

    type: Literal["message.new"] = "message.new"
    chat_id: PositiveInt
    message_id: PositiveInt
    direction: Literal["inbound", "outbound"]
    sender_type: Literal["contact", "staff", "bot"]
    sender_id: PositiveInt | None = None


class MessageUpdated(Event):
    """A message was edited; `changed` names the fields, `version` orders concurrent updates."""

    type: Literal["message.updated"] = "message.updated"
    chat_id: PositiveInt
    message_id: PositiveInt
    version: PositiveInt
    changed: tuple[Annotated[str, Field(pattern=_CODE)], ...] = ()


class MessageDeleted(Event):
    """A message was deleted."""

    type: Literal["message.deleted"] = "message.deleted"
    chat_id: PositiveInt
    message_id: PositiveInt


class MessageStatus(Event):
    """A message's delivery state changed (a delivery or read receipt).

    With `applies_to` = `inbound_up_to`, one event stands for a read receipt of a whole range: every
    inbound message of the chat up to `message_id` is now `status` (rapid receipts coalesced into one).
    """

    type: Literal["message.status"] = "message.status"
    chat_id: PositiveInt
    message_id: PositiveInt
    status: Literal["queued", "sent", "delivered", "read", "failed"]
    status_at: datetime
    applies_to: Literal["message", "inbound_up_to"] = Field(
        default="message", description="`message`: this message only; `inbound_up_to`: the range"
    )


class ChatNew(Event):
    """A chat was opened in a workspace."""

    type: Literal["chat.new"] = "chat.new"
    chat_id: PositiveInt
    status: Literal["open", "closed"]
    created_by_id: PositiveInt | None = None


class ChatStatusChanged(Event):
    """A chat was closed or reopened."""

    type: Literal["chat.status"] = "chat.status"
    chat_id: PositiveInt
    status: Literal["open", "closed"]
    previous_status: Literal["open", "closed"]
    changed_by_id: PositiveInt | None = Field(
        default=None, description="The staff user; null when a customer's message reopened the chat"
    )


class ChatAssigned(Event):
    """A chat was assigned to a staff user."""

    type: Literal["chat.assigned"] = "chat.assigned"
    chat_id: PositiveInt
    assignee_id: PositiveInt
    previous_assignee_id: PositiveInt | None = None
    assigned_by_id: PositiveInt | None = None


class ChatUnassigned(Event):
    """A chat lost its assignee."""

    type: Literal["chat.unassigned"] = "chat.unassigned"
    chat_id: PositiveInt
    previous_assignee_id: PositiveInt
    unassigned_by_id: PositiveInt | None = None


class MemberAdded(Event):
    """A user joined a workspace's staff (also sent to the user's own channel)."""

    type: Literal["member.added"] = "member.added"
    user_id: PositiveInt
    role: Literal["admin", "agent"]
    added_by_id: PositiveInt | None = None


class MemberRoleChanged(Event):
    """A member's role in the workspace changed."""

    type: Literal["member.role_changed"] = "member.role_changed"
    user_id: PositiveInt
    role: Literal["admin", "agent"]
    previous_role: Literal["admin", "agent"]
    changed_by_id: PositiveInt | None = None


class MemberRemoved(Event):
    """A user left a workspace's staff; their access to its channels has ended."""

    type: Literal["member.removed"] = "member.removed"
    user_id: PositiveInt
    removed_by_id: PositiveInt | None = Field(
        default=None, description="Who removed them; null when the user was deleted"
    )


class UserOnline(Event):
    """A staff user came online or went offline."""

    type: Literal["user.online"] = "user.online"
    user_id: PositiveInt
    online: bool


class NotificationSystem(Event):
    """A workspace or system notification; `code` is a machine code, its text is fetched or localised."""

    type: Literal["notification.system"] = "notification.system"
    notification_id: PositiveInt
    level: Literal["info", "warning", "critical"]
    code: Annotated[str, Field(pattern=_CODE)]


class AiSuggestionReady(Event):
    """An AI reply suggestion is ready to fetch (its text is never streamed through Pusher)."""

    type: Literal["ai.suggestion_ready"] = "ai.suggestion_ready"
    chat_id: PositiveInt
    suggestion_id: PositiveInt
    message_id: PositiveInt | None = None


class AiSuggestionAccepted(Event):
    """A staff user sent an AI suggestion (possibly edited)."""

    type: Literal["ai.suggestion_accepted"] = "ai.suggestion_accepted"
    chat_id: PositiveInt
    suggestion_id: PositiveInt
    message_id: PositiveInt


class AiSuggestionDiscarded(Event):
    """An AI suggestion was dismissed or superseded."""

    type: Literal["ai.suggestion_discarded"] = "ai.suggestion_discarded"
    chat_id: PositiveInt
    suggestion_id: PositiveInt


AnyEvent = Annotated[
    MessageNew
    | MessageUpdated
    | MessageDeleted
    | MessageStatus
    | ChatNew
    | ChatStatusChanged
    | ChatAssigned
    | ChatUnassigned
    | MemberAdded
    | MemberRoleChanged
    | MemberRemoved
    | UserOnline
    | NotificationSystem
    | AiSuggestionReady
    | AiSuggestionAccepted
    | AiSuggestionDiscarded,
    Field(discriminator="type"),
]
_ANY_EVENT: TypeAdapter[Event] = TypeAdapter(AnyEvent)
CATALOGUE: dict[str, type[Event]] = {
    model.model_fields["type"].default: model
    for model in (
        MessageNew,
        MessageUpdated,
        MessageDeleted,
        MessageStatus,
        ChatNew,
        ChatStatusChanged,
        ChatAssigned,
        ChatUnassigned,
        MemberAdded,
        MemberRoleChanged,
        MemberRemoved,
        UserOnline,
        NotificationSystem,
        AiSuggestionReady,
        AiSuggestionAccepted,
        AiSuggestionDiscarded,
    )
}


class UnknownEvent(ValueError):
    """An event type that is not in the catalogue."""


def parse_event(event_type: str, data: dict[str, Any]) -> Event:
    """Build the catalogued model for `event_type` from JSON data (pydantic's ValidationError if bad)."""
    if event_type not in CATALOGUE:
        raise UnknownEvent(f"{event_type!r} is not a catalogued event; known: {', '.join(sorted(CATALOGUE))}")
    return _ANY_EVENT.validate_python({**data, "type": event_type})
