"""The event log: the catalogue of events, `emit` (the one way a feature publishes), catch-up, retention.

A feature needs only this package's top level:

    from waxos.events import MessageNew, emit

    await emit(session, private_workspace_channel(workspace_id, "chats"), MessageNew(...))
"""

from waxos.events.catalogue import (
    CATALOGUE,
    AiSuggestionAccepted,
    AiSuggestionDiscarded,
    AiSuggestionReady,
    ChatAssigned,
    ChatNew,
    ChatStatusChanged,
    ChatUnassigned,
    Event,
    MemberAdded,
    MemberRemoved,
    MemberRoleChanged,
    MessageDeleted,
    MessageNew,
    MessageStatus,
    MessageUpdated,
    NotificationSystem,
    UnknownEvent,
    UserOnline,
    parse_event,
)
from waxos.events.envelope import Envelope, EventTooLarge
from waxos.events.writer import MAX_EVENTS_PER_EMIT, ChannelRefused, emit, emit_each, emit_many

__all__ = [
    "CATALOGUE",
    "MAX_EVENTS_PER_EMIT",
    "AiSuggestionAccepted",
    "AiSuggestionDiscarded",
    "AiSuggestionReady",
    "ChannelRefused",
    "ChatAssigned",
    "ChatNew",
    "ChatStatusChanged",
    "ChatUnassigned",
    "Envelope",
    "Event",
    "EventTooLarge",
    "MemberAdded",
    "MemberRemoved",
    "MemberRoleChanged",
    "MessageDeleted",
    "MessageNew",
    "MessageStatus",
    "MessageUpdated",
    "NotificationSystem",
    "UnknownEvent",
    "UserOnline",
    "emit",
    "emit_each",
    "emit_many",
    "parse_event",
]
