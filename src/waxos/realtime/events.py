"""The event catalogue and the envelope: one typed model per `resource.action`, ids and metadata only.

Payloads never carry message bodies or personal data (names, emails, phone numbers): a client that needs
the full object fetches it through the API. Every model forbids unknown fields, so a feature cannot slip a
body into an event by accident.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, TypeAdapter

from waxos.realtime.names import ChannelKind, channel_kind

MAX_ENVELOPE_BYTES = 10_240  # Pusher's limit on an event's `data`
_CODE = r"^[a-z][a-z0-9_]{0,63}$"


class Event(BaseModel):
    """Base of every catalogued event; subclasses pin `type` with a Literal."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: str
    # The resource family, for documentation and grouping; the `type` Literal is the contract.
    resource: ClassVar[str] = ""

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
    """A message's delivery state changed (a delivery or read receipt)."""

    type: Literal["message.status"] = "message.status"
    chat_id: PositiveInt
    message_id: PositiveInt
    status: Literal["queued", "sent", "delivered", "read", "failed"]
    status_at: datetime


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
    | ChatAssigned
    | ChatUnassigned
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
        ChatAssigned,
        ChatUnassigned,
        UserOnline,
        NotificationSystem,
        AiSuggestionReady,
        AiSuggestionAccepted,
        AiSuggestionDiscarded,
    )
}


class UnknownEvent(ValueError):
    """An event type that is not in the catalogue."""


class EventTooLarge(ValueError):
    """An envelope that would exceed Pusher's 10,240-byte limit once encoded; nothing was logged."""


def parse_event(event_type: str, data: dict[str, Any]) -> Event:
    """Build the catalogued model for `event_type` from JSON data (pydantic's ValidationError if bad)."""
    if event_type not in CATALOGUE:
        raise UnknownEvent(f"{event_type!r} is not a catalogued event; known: {', '.join(sorted(CATALOGUE))}")
    return _ANY_EVENT.validate_python({**data, "type": event_type})


class Envelope(BaseModel):
    """What every subscriber and the catch-up endpoint receive for one logged event."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="Unique and time-sortable (UUIDv7): the deduplication key")
    type: str = Field(description="The catalogued `resource.action`, also the Pusher event name")
    channel: str = Field(description="The Pusher channel it was published on; `seq` counts per channel")
    seq: PositiveInt = Field(description="Gapless per channel, starting at 1")
    occurred_at: datetime = Field(description="UTC; for display only, never for ordering")
    workspace_id: PositiveInt | None = Field(
        default=None, description="The workspace of a workspace channel; null on user channels"
    )
    data: dict[str, Any] = Field(description="The event's payload, as listed per event below")

    def encode(self) -> str:
        """The compact JSON sent to Pusher and served by catch-up."""
        return json.dumps(
            self.model_dump(mode="json"), ensure_ascii=False, separators=(",", ":"), allow_nan=False
        )


def check_size(channel: str, encoded: str) -> None:
    """Refuse an envelope whose `data`, as Pusher will receive it, exceeds 10,240 bytes."""
    size = len(encoded.encode("utf-8"))
    if channel_kind(channel) is ChannelKind.ENCRYPTED:
        # End-to-end encryption sends {"nonce": base64(24 bytes), "ciphertext": base64(secretbox)}: the
        # limit applies to that, so count what it will weigh rather than the plaintext.
        ciphertext = 4 * -(-(size + 16) // 3)
        size = len(json.dumps({"nonce": "x" * 32, "ciphertext": "x" * ciphertext}))
    if size > MAX_ENVELOPE_BYTES:
        raise EventTooLarge(
            f"the envelope for {channel} is {size} bytes once encoded; Pusher accepts at most "
            f"{MAX_ENVELOPE_BYTES}: send ids and fetch the rest through the API"
        )


class _Uuid7:
    """UUIDv7 (RFC 9562): 48-bit milliseconds then randomness, monotonic within this process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = 0

    def __call__(self) -> str:
        with self._lock:
            # A counter in the random bits keeps ids of one millisecond in creation order.
            value = max(
                time.time_ns() // 1_000_000 << 74 | int.from_bytes(os.urandom(10)) >> 6, self._last + 1
            )
            self._last = value
        millis, rest = value >> 74, value & ((1 << 74) - 1)
        rand_a, rand_b = rest >> 62, rest & ((1 << 62) - 1)
        return str(uuid.UUID(int=millis << 80 | 0x7 << 76 | rand_a << 64 | 0b10 << 62 | rand_b))


new_event_id = _Uuid7()
