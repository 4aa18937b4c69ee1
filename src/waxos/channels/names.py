"""Our channel and event naming conventions, built on the Pusher protocol's channel types.

Our channels:
    private-workspace-{id}.{resource}            tenant data (decision D1: never a public channel)
    private-encrypted-workspace-{id}.{resource}  the same, end-to-end encrypted
    presence-workspace-{id}                      staff presence of one workspace
    private-user-{id}                            one staff user's own events
    workspace-{id}.{resource}                    public: never authorized nor emitted to (decision D1)
Event names are `resource.action`, lower-case words joined by `_`.

Pusher's own rules (the name grammar, the kinds by prefix, the limits) live in `waxos.pusher_protocol`:
`parse_channel` there is the one channel parser, raising `InvalidName`; this module adds only our rules.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from waxos.pusher_protocol.limits import MAX_EVENT_NAME_LENGTH
from waxos.pusher_protocol.names import (
    ChannelKind,
    ChannelName,
    InvalidName,
    is_valid_socket_id,
    parse_channel,
)

EVENT_NAME = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*")
RESOURCE = re.compile(r"[a-z][a-z0-9_]*")

_OURS = re.compile(
    r"(?P<prefix>private-encrypted-|private-|presence-|)"
    r"(?:workspace-(?P<workspace>[1-9][0-9]{0,17})(?:\.(?P<resource>[a-z][a-z0-9_]*))?"
    r"|user-(?P<user>[1-9][0-9]{0,17}))"
)


def validate_channel_name(channel: object) -> ChannelName:
    """`channel` parsed, if an app may name it (Pusher's rules, no `#` channel), else raise `InvalidName`."""
    parsed = parse_channel(channel)
    if parsed.kind is ChannelKind.SERVER_TO_USER:
        # `#server-to-user-{id}` is Pusher's channel for a signed-in user: pusher-js joins it by itself,
        # and no app publishes to it or authorizes it by name. Refused with the charset's words, as before.
        raise InvalidName("channel name", "only letters, digits and -_=@,.; are allowed")
    return parsed


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
    if not isinstance(socket_id, str) or not is_valid_socket_id(socket_id):
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


def user_channel(user_id: int) -> str:
    """`private-user-{id}`: one staff user's own events."""
    return f"private-user-{_id(user_id)}"


def presence_workspace_channel(workspace_id: int) -> str:
    """`presence-workspace-{id}`: who of the workspace's staff is online."""
    return f"presence-workspace-{_id(workspace_id)}"


@dataclass(frozen=True, slots=True)
class WaxosChannel:
    """A valid channel and whose it is under our conventions (no owner: not one of ours)."""

    channel: ChannelName
    workspace_id: int | None = None
    user_id: int | None = None

    @property
    def name(self) -> str:
        """The channel name."""
        return self.channel.name

    @property
    def kind(self) -> ChannelKind:
        """The Pusher kind of the channel."""
        return self.channel.kind


def waxos_channel(channel: str | ChannelName) -> WaxosChannel:
    """Read our conventions from a channel; a string is validated first (`InvalidName` if it is not one).

    Shapes outside our conventions (e.g. `presence-user-1`, `workspace-1` without resource on a private
    channel) come back with no owner, so the channel policy denies them.
    """
    parsed = channel if isinstance(channel, ChannelName) else validate_channel_name(channel)
    kind = parsed.kind
    match = _OURS.fullmatch(parsed.name)
    if match is None:
        return WaxosChannel(parsed)
    workspace, resource, user = match["workspace"], match["resource"], match["user"]
    if user is not None:
        if kind is ChannelKind.PRIVATE:
            return WaxosChannel(parsed, user_id=int(user))
        return WaxosChannel(parsed)
    if kind is ChannelKind.PRESENCE:
        if resource is None:
            return WaxosChannel(parsed, workspace_id=int(workspace))
        return WaxosChannel(parsed)
    if resource is None:
        return WaxosChannel(parsed)
    return WaxosChannel(parsed, workspace_id=int(workspace))


# The workspace channels the inbox publishes on, one per resource a client follows.


def chats_channel(workspace_id: int) -> str:
    """`private-workspace-{id}.chats`: chats and their messages, receipts and assignments."""
    return private_workspace_channel(workspace_id, "chats")


def notifications_channel(workspace_id: int) -> str:
    """`private-workspace-{id}.notifications`: workspace notifications and announcements."""
    return private_workspace_channel(workspace_id, "notifications")


def members_channel(workspace_id: int) -> str:
    """`private-workspace-{id}.members`: staff joining, leaving, changing role."""
    return private_workspace_channel(workspace_id, "members")


def staff_online_channel(workspace_id: int) -> str:
    """`private-workspace-{id}.presence`: `user.online` as webhooks report staff coming and going."""
    return private_workspace_channel(workspace_id, "presence")
