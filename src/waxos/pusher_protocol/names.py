"""Channel and event names: the grammar, the channel kinds a prefix selects, and the size limits."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

# Pusher documents 164 characters, but every official server SDK lets 200 through; a local server that is
# stricter than the SDKs would reject names production accepts, so the SDK limit is the one enforced.
MAX_CHANNEL_NAME_LENGTH = 200
MAX_EVENT_NAME_LENGTH = 200
MAX_USER_ID_LENGTH = 200
MAX_DATA_BYTES = 10_240
MAX_CHANNELS_PER_TRIGGER = 100
MAX_BATCH_EVENTS = 10
SERVER_TO_USER_PREFIX = "#server-to-user-"
CLIENT_EVENT_PREFIX = "client-"

_NAME = re.compile(r"\A[-a-zA-Z0-9_=@,.;]+\Z")
_SOCKET_ID = re.compile(r"\A\d+\.\d+\Z")


class ChannelKind(enum.Enum):
    """What a channel's prefix makes it: who may subscribe and how."""

    PUBLIC = "public"
    PRIVATE = "private"
    ENCRYPTED = "private-encrypted"
    PRESENCE = "presence"
    SERVER_TO_USER = "server-to-user"


@dataclass(frozen=True, slots=True)
class ChannelName:
    """A validated channel name with its kind and whether it is a cache channel."""

    name: str
    kind: ChannelKind
    cached: bool

    @property
    def needs_auth(self) -> bool:
        """Private, encrypted and presence channels need a signature to subscribe."""
        return self.kind in (ChannelKind.PRIVATE, ChannelKind.ENCRYPTED, ChannelKind.PRESENCE)

    @property
    def allows_client_events(self) -> bool:
        """Client events travel only on channels whose members were authorized by the app."""
        return self.needs_auth

    @property
    def user_id(self) -> str:
        """The user a `#server-to-user-` channel belongs to ('' for other kinds)."""
        if self.kind is ChannelKind.SERVER_TO_USER:
            return self.name.removeprefix(SERVER_TO_USER_PREFIX)
        return ""


def is_valid_name(value: str, max_length: int = MAX_CHANNEL_NAME_LENGTH) -> bool:
    """True when `value` uses only the channel charset and fits `max_length`."""
    return len(value) <= max_length and _NAME.match(value) is not None


def parse_channel(value: object) -> ChannelName | None:
    """Classify a channel name, or None when it is not a valid one."""
    if not isinstance(value, str):
        return None
    if value.startswith(SERVER_TO_USER_PREFIX):
        user_id = value.removeprefix(SERVER_TO_USER_PREFIX)
        if not is_valid_name(value.removeprefix("#")) or not user_id:
            return None
        return ChannelName(value, ChannelKind.SERVER_TO_USER, cached=False)
    if not is_valid_name(value):
        return None
    if value.startswith("private-encrypted-"):
        kind = ChannelKind.ENCRYPTED
        cached = value.startswith("private-encrypted-cache-")
    elif value.startswith("private-"):
        kind = ChannelKind.PRIVATE
        cached = value.startswith("private-cache-")
    elif value.startswith("presence-"):
        kind = ChannelKind.PRESENCE
        cached = value.startswith("presence-cache-")
    else:
        kind = ChannelKind.PUBLIC
        cached = value.startswith("cache-")
    return ChannelName(value, kind, cached)


def is_valid_event_name(value: object) -> bool:
    """An event name is a non-empty string of at most 200 characters (Pusher checks no charset)."""
    return isinstance(value, str) and 0 < len(value) <= MAX_EVENT_NAME_LENGTH


def is_valid_socket_id(value: object) -> bool:
    """Socket ids are two unsigned integers joined by a dot, as every server SDK checks."""
    return isinstance(value, str) and _SOCKET_ID.match(value) is not None


def is_valid_user_id(value: object) -> bool:
    """A user id is a non-empty string in the channel charset, as the SDKs validate it."""
    return isinstance(value, str) and is_valid_name(value, MAX_USER_ID_LENGTH)
