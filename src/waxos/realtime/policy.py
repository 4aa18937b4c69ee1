"""The channel policy: the one place that decides whether a staff user may listen to a channel.

Every doorway to channel data asks here: the Pusher auth endpoints now, the catch-up endpoint later.
`decide` is the pure rule; `authorize_channel` looks up what it needs in the database first.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from waxos.auth.models import Role, User
from waxos.auth.service import membership_role
from waxos.realtime.names import ChannelKind, ParsedChannel, parse_channel

NOT_A_MEMBER = "not a member of this workspace"
NOT_YOUR_USER_CHANNEL = "a user channel is only for its own user"
PUBLIC_CHANNEL = "public channels need no authorization"
UNKNOWN_CHANNEL = "not a WAXOS channel"

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Allowed:
    """The user may subscribe; `presence` is their member record when the channel is a presence one."""

    channel: ParsedChannel
    presence: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Denied:
    """The user may not subscribe; `reason` says why without revealing anything about other tenants."""

    channel: ParsedChannel
    reason: str


Decision = Allowed | Denied


def presence_member(user: User, role: Role) -> dict[str, Any]:
    """The presence `channel_data` for a member: built from our records, never from the request."""
    return {"user_id": str(user.id), "user_info": {"name": user.name, "role": role.value}}


def signed_in_user(user: User) -> dict[str, Any]:
    """The `user_data` of a Pusher sign-in (`authenticate_user`), from our records of the user."""
    return {"id": str(user.id), "user_info": {"name": user.name}}


def decide(user: User, channel: ParsedChannel, role: Role | None) -> Decision:
    """Apply the rules to a parsed channel, given the user's role in its workspace (None: no member).

    - `private-workspace-{id}.{resource}`, `private-encrypted-workspace-{id}.{resource}` and
      `presence-workspace-{id}`: members of workspace `id` only;
    - `private-user-{id}`: user `id` only;
    - anything else, public channels included: denied.
    """
    if channel.kind is ChannelKind.PUBLIC:
        return Denied(channel, PUBLIC_CHANNEL)
    if channel.user_id is not None:
        if channel.user_id == user.id:
            return Allowed(channel)
        return Denied(channel, NOT_YOUR_USER_CHANNEL)
    if channel.workspace_id is None:
        return Denied(channel, UNKNOWN_CHANNEL)
    if role is None:
        return Denied(channel, NOT_A_MEMBER)
    if channel.kind is ChannelKind.PRESENCE:
        return Allowed(channel, presence_member(user, role))
    return Allowed(channel)


async def authorize_channel(session: AsyncSession, user: User, channel: str) -> Decision:
    """Decide whether `user` may subscribe to `channel`, reading their membership from the database.

    Raises `waxos.realtime.names.InvalidName` when `channel` is not a valid channel name at all.
    """
    parsed = parse_channel(channel)
    role = None
    if parsed.workspace_id is not None and parsed.kind is not ChannelKind.PUBLIC:
        role = await membership_role(session, user.id, parsed.workspace_id)
    decision = decide(user, parsed, role)
    if isinstance(decision, Denied):
        logger.debug("channel denied: user=%d channel=%s reason=%s", user.id, channel, decision.reason)
    else:
        logger.debug("channel allowed: user=%d channel=%s", user.id, channel)
    return decision
