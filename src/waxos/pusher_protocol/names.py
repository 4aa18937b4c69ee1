"""Channel and event names: the grammar, the channel kinds a prefix selects, and the one channel parser."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from waxos.pusher_protocol.limits import MAX_CHANNEL_NAME_LENGTH, MAX_EVENT_NAME_LENGTH, MAX_USER_ID_LENGTH

SERVER_TO_USER_PREFIX = "#server-to-user-"
CLIENT_EVENT_PREFIX = "client-"

# Channel names and user ids; the same character class in every official SDK.
NAME_CHARSET = re.compile(r"[-a-zA-Z0-9_=@,.;]+")
# Two unsigned integers joined by a dot. ASCII digits only: Python's `\d` also matches other scripts' digits,
# which pusher-js and the Node SDK refuse.
SOCKET_ID = re.compile(r"[0-9]+\.[0-9]+")


class InvalidName(ValueError):
    """A channel name, event name, socket id or id breaks a rule; `what` is the thing, `rule` the rule."""

    def __init__(self, what: str, rule: str) -> None:
        self.what = what
        self.rule = rule
        super().__init__(f"invalid {what}: {rule}")


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


def parse_channel(value: object) -> ChannelName:
    """Classify a channel name by its prefix, or raise `InvalidName` naming the rule it breaks."""
    if not isinstance(value, str):
        raise InvalidName("channel name", "must be a string")
    if value.startswith(SERVER_TO_USER_PREFIX):
        # `#` is reserved to Pusher; the rest of the name follows the usual rules.
        if value == SERVER_TO_USER_PREFIX:
            raise InvalidName("channel name", "#server-to-user- needs a user id")
        _check_channel_text(value.removeprefix("#"))
        return ChannelName(value, ChannelKind.SERVER_TO_USER, cached=False)
    _check_channel_text(value)
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


def _check_channel_text(value: str) -> None:
    if not value:
        raise InvalidName("channel name", "must not be empty")
    if len(value) > MAX_CHANNEL_NAME_LENGTH:
        raise InvalidName("channel name", f"at most {MAX_CHANNEL_NAME_LENGTH} characters")
    if NAME_CHARSET.fullmatch(value) is None:
        raise InvalidName("channel name", "only letters, digits and -_=@,.; are allowed")


def is_valid_event_name(value: object) -> bool:
    """An event name is a non-empty string of at most 200 characters (Pusher checks no charset)."""
    return isinstance(value, str) and 0 < len(value) <= MAX_EVENT_NAME_LENGTH


def is_valid_socket_id(value: object) -> bool:
    """Socket ids are two unsigned integers joined by a dot, as every server SDK checks."""
    return isinstance(value, str) and SOCKET_ID.fullmatch(value) is not None


def is_valid_user_id(value: object) -> bool:
    """A user id is a non-empty string in the channel charset, at most 128 characters."""
    return (
        isinstance(value, str)
        and len(value) <= MAX_USER_ID_LENGTH
        and NAME_CHARSET.fullmatch(value) is not None
    )
