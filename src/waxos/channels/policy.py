"""The channel policy: the one place that decides whether a staff user may listen to a channel.

Every doorway to channel data asks here: the Pusher auth endpoints and the catch-up endpoint.
`decide` is the rule, pure; `authorize_channel` (for a user already loaded) and `authorize_token`
(for the bare id in an access token, through the batching `StaffLookup`) read what it needs from the
database first, on every call, so a removed membership or a deleted user loses access at once.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from waxos.auth.errors import NotAuthenticated
from waxos.auth.lookup import StaffLookup
from waxos.auth.models import Role
from waxos.auth.service import membership_role, workspaces_of
from waxos.auth.tokens import AccessToken
from waxos.channels.names import WaxosChannel, waxos_channel
from waxos.pusher_protocol.names import ChannelKind, ChannelName

NOT_A_MEMBER = "not a member of this workspace"
NOT_YOUR_USER_CHANNEL = "a user channel is only for its own user"
PUBLIC_CHANNEL = "public channels need no authorization"
UNKNOWN_CHANNEL = "not a WAXOS channel"
USER_GONE = "the user of this access token no longer exists"

logger = logging.getLogger(__name__)


class Staff(Protocol):
    """What the policy needs to know of a user: who they are and what to show others."""

    @property
    def id(self) -> int:
        """The user id."""

    @property
    def name(self) -> str:
        """The display name."""


@dataclass(frozen=True, slots=True)
class Allowed:
    """The user may subscribe; `presence` is their member record when the channel is a presence one."""

    channel: WaxosChannel
    presence: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Denied:
    """The user may not subscribe; `reason` says why without revealing anything about other tenants."""

    channel: WaxosChannel
    reason: str


Decision = Allowed | Denied

# Stable machine codes for the reasons above, for metrics and logs that must not carry prose.
_DENIAL_CODES = {
    NOT_A_MEMBER: "not_a_member",
    NOT_YOUR_USER_CHANNEL: "not_your_user_channel",
    PUBLIC_CHANNEL: "public_channel",
    UNKNOWN_CHANNEL: "unknown_channel",
}


def decision_label(decision: Decision) -> tuple[str, str]:
    """`(outcome, reason)` codes of a decision: ("allowed", "member" | "own_user_channel") or
    ("denied", one of the denial codes)."""
    if isinstance(decision, Denied):
        return "denied", _DENIAL_CODES.get(decision.reason, "other")
    return "allowed", "own_user_channel" if decision.channel.user_id is not None else "member"


def presence_member(user: Staff, role: Role) -> dict[str, Any]:
    """The presence `channel_data` for a member: built from our records, never from the request."""
    return {"user_id": str(user.id), "user_info": {"name": user.name, "role": role.value}}


def signed_in_user(user: Staff) -> dict[str, Any]:
    """The `user_data` of a Pusher sign-in (`authenticate_user`), from our records of the user."""
    return {"id": str(user.id), "user_info": {"name": user.name}}


def decide(user: Staff, channel: WaxosChannel, role: Role | None) -> Decision:
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


def _workspace_of(channel: WaxosChannel) -> int | None:
    """The workspace whose membership the rules will ask about, if any."""
    return channel.workspace_id if channel.kind is not ChannelKind.PUBLIC else None


async def authorize_channel(session: AsyncSession, user: Staff, channel: str | ChannelName) -> Decision:
    """Decide for a user already loaded, reading their membership from the database.

    Raises `InvalidName` when `channel` is a string that is not a valid channel name at all.
    """
    parsed = waxos_channel(channel)
    workspace_id = _workspace_of(parsed)
    role = None if workspace_id is None else await membership_role(session, user.id, workspace_id)
    return _logged(user, decide(user, parsed, role))


async def authorize_channels(session: AsyncSession, user: Staff, channels: list[str]) -> dict[str, Decision]:
    """Decide several channels for one user, reading all their memberships in one query.

    Raises `InvalidName` for the first name that is not a valid channel name.
    """
    parsed = [waxos_channel(channel) for channel in channels]
    roles: dict[int, Role] = {}
    if any(_workspace_of(channel) is not None for channel in parsed):
        roles = {workspace.id: role for workspace, role in await workspaces_of(session, user.id)}
    decisions = {}
    for channel in parsed:
        workspace_id = _workspace_of(channel)
        role = None if workspace_id is None else roles.get(workspace_id)
        decisions[channel.name] = _logged(user, decide(user, channel, role))
    return decisions


async def authorize_token(lookup: StaffLookup, token: AccessToken, channel: str | ChannelName) -> Decision:
    """Decide for the user an access token names, reading the user and membership on this call.

    Raises `NotAuthenticated` when that user no longer exists (or another has its id), and `InvalidName`
    for an invalid name string.
    """
    parsed = waxos_channel(channel)
    standing = await lookup.standing_of(token, _workspace_of(parsed))
    if standing is None:
        raise NotAuthenticated(USER_GONE)
    return _logged(standing.user, decide(standing.user, parsed, standing.role))


def _logged(user: Staff, decision: Decision) -> Decision:
    if isinstance(decision, Denied):
        logger.debug(
            "channel denied: user=%d channel=%s reason=%s", user.id, decision.channel.name, decision.reason
        )
    else:
        logger.debug("channel allowed: user=%d channel=%s", user.id, decision.channel.name)
    return decision
