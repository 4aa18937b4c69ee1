"""Channel and event names: the Pusher grammar, our conventions, builders and a parser.

Our channels:
    private-workspace-{id}.{resource}            tenant data (decision D1: never a public channel)
    private-encrypted-workspace-{id}.{resource}  the same, end-to-end encrypted
    presence-workspace-{id}                      staff presence of one workspace
    private-user-{id}                            one staff user's own events
    workspace-{id}.{resource}                    public; for non-tenant data only (kept for the convention)
Event names are `resource.action`, lower-case words joined by `_`.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

MAX_CHANNEL_NAME_LENGTH = 164
CHANNEL_NAME = re.compile(r"^[-a-zA-Z0-9_=@,.;]+$")
# Pusher accepts up to 200 characters for an event name; ours are also `resource.action`.
MAX_EVENT_NAME_LENGTH = 200
EVENT_NAME = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
SOCKET_ID = re.compile(r"[0-9]+\.[0-9]+")
RESOURCE = re.compile(r"^[a-z][a-z0-9_]*$")

_OURS = re.compile(
    r"^(?P<prefix>private-encrypted-|private-|presence-|)"
    r"(?:workspace-(?P<workspace>[1-9][0-9]{0,17})(?:\.(?P<resource>[a-z][a-z0-9_]*))?"
    r"|user-(?P<user>[1-9][0-9]{0,17}))$"
)


class ChannelKind(enum.StrEnum):
    """What Pusher does with a channel, from its prefix."""

    PUBLIC = "public"
    PRIVATE = "private"
    ENCRYPTED = "encrypted"
    PRESENCE = "presence"


class InvalidName(ValueError):
    """A channel, event or socket id breaks a rule; `rule` names the rule."""

    def __init__(self, what: str, rule: str) -> None:
        self.what = what
        self.rule = rule
        super().__init__(f"invalid {what}: {rule}")


def channel_kind(channel: str) -> ChannelKind:
    """The Pusher kind of any channel name, by prefix."""
    if channel.startswith("private-encrypted-"):
        return ChannelKind.ENCRYPTED
    if channel.startswith("private-"):
        return ChannelKind.PRIVATE
    if channel.startswith("presence-"):
        return ChannelKind.PRESENCE
    return ChannelKind.PUBLIC


def validate_channel_name(channel: object) -> str:
    """Return `channel` if Pusher accepts it as a channel name, else raise `InvalidName`."""
    if not isinstance(channel, str):
        raise InvalidName("channel name", "must be a string")
    if not channel:
        raise InvalidName("channel name", "must not be empty")
    if len(channel) > MAX_CHANNEL_NAME_LENGTH:
        raise InvalidName("channel name", f"at most {MAX_CHANNEL_NAME_LENGTH} characters")
    if not CHANNEL_NAME.fullmatch(channel):
        raise InvalidName("channel name", "only letters, digits and -_=@,.; are allowed")
    return channel


def validate_event_name(event: object) -> str:
    """Return `event` if it is one of ours (`resource.action`), else raise `InvalidName`."""
    if not isinstance(event, str):
        raise InvalidName("event name", "must be a string")
    if len(event) > MAX_EVENT_NAME_LENGTH:
        raise InvalidName("event name", f"at most {MAX_EVENT_NAME_LENGTH} characters")
    if event.startswith(("pusher:", "pusher_internal:", "client-")):
        raise InvalidName("event name", "pusher:, pusher_internal: and client- names are reserved")
    if not EVENT_NAME.fullmatch(event):
        raise InvalidName("event name", "must be resource.action in lower case, e.g. message.new")
    return event


def validate_socket_id(socket_id: object) -> str:
    """Return `socket_id` if it looks like Pusher's `digits.digits`, else raise `InvalidName`."""
    if not isinstance(socket_id, str) or not SOCKET_ID.fullmatch(socket_id):
        raise InvalidName("socket id", "must be digits.digits, e.g. 1234.5678")
    return socket_id


def _id(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidName("id", "must be a positive integer")
    return value


def _resource(resource: str) -> str:
    if not RESOURCE.fullmatch(resource):
        raise InvalidName("resource", "must be lower-case letters, digits and _")
    return resource


def private_workspace_channel(workspace_id: int, resource: str) -> str:
    """`private-workspace-{id}.{resource}`: where a workspace's tenant data travels."""
    return f"private-workspace-{_id(workspace_id)}.{_resource(resource)}"


def encrypted_workspace_channel(workspace_id: int, resource: str) -> str:
    """`private-encrypted-workspace-{id}.{resource}`: end-to-end encrypted tenant data."""
    return f"private-encrypted-workspace-{_id(workspace_id)}.{_resource(resource)}"


def public_workspace_channel(workspace_id: int, resource: str) -> str:
    """`workspace-{id}.{resource}`: public; never for tenant data (decision D1)."""
    return f"workspace-{_id(workspace_id)}.{_resource(resource)}"


def user_channel(user_id: int) -> str:
    """`private-user-{id}`: one staff user's own events."""
    return f"private-user-{_id(user_id)}"


def presence_workspace_channel(workspace_id: int) -> str:
    """`presence-workspace-{id}`: who of the workspace's staff is online."""
    return f"presence-workspace-{_id(workspace_id)}"


def event_name(resource: str, action: str) -> str:
    """`resource.action`, validated."""
    return validate_event_name(f"{resource}.{action}")


@dataclass(frozen=True, slots=True)
class ParsedChannel:
    """A channel name taken apart: its kind, and whose it is when it follows our conventions."""

    name: str
    kind: ChannelKind
    workspace_id: int | None = None
    user_id: int | None = None
    resource: str | None = None

    @property
    def is_ours(self) -> bool:
        """True when the name follows one of our conventions."""
        return self.workspace_id is not None or self.user_id is not None


def parse_channel(channel: str) -> ParsedChannel:
    """Parse any valid channel name; our conventions fill in workspace, user and resource.

    Shapes outside our conventions (e.g. `presence-user-1`, `workspace-1` without resource on a private
    channel) parse with no owner, so the channel policy denies them.
    """
    validate_channel_name(channel)
    kind = channel_kind(channel)
    match = _OURS.fullmatch(channel)
    if match is None:
        return ParsedChannel(channel, kind)
    workspace, resource, user = match["workspace"], match["resource"], match["user"]
    if user is not None:
        if kind is ChannelKind.PRIVATE:
            return ParsedChannel(channel, kind, user_id=int(user))
        return ParsedChannel(channel, kind)
    if kind is ChannelKind.PRESENCE:
        if resource is None:
            return ParsedChannel(channel, kind, workspace_id=int(workspace))
        return ParsedChannel(channel, kind)
    if resource is None:
        return ParsedChannel(channel, kind)
    return ParsedChannel(channel, kind, workspace_id=int(workspace), resource=resource)
