"""The channel registry: who is subscribed where, presence members by distinct user, the cache.

Every change returns what it caused (a channel became occupied or vacated, a user joined or left a
presence channel) as values, so the caller decides which messages and webhooks follow. Ordered dicts
stand in for sets so fan-out order, and therefore every test, is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from waxos.pusher_protocol.messages import JsonValue, PresenceMember


@dataclass(frozen=True, slots=True)
class JoinResult:
    """What a subscription changed: the channel's first subscriber, a presence user's first socket."""

    occupied: bool
    member_added: bool


@dataclass(frozen=True, slots=True)
class LeaveResult:
    """What an unsubscription changed: the channel's last subscriber, a user's last socket."""

    vacated: bool
    member_removed: bool


@dataclass(frozen=True, slots=True)
class CachedEvent:
    """The last event published on a cache channel and when it expires."""

    event: str
    data: str
    expires_at: float


@dataclass(slots=True)
class _Member:
    user_info: JsonValue
    sockets: dict[str, None] = field(default_factory=dict)


class Hub:
    """Channels, presence members and cached events of one app."""

    def __init__(self) -> None:
        self._channels: dict[str, dict[str, None]] = {}
        self._presence: dict[str, dict[str, _Member]] = {}
        self._cache: dict[str, CachedEvent] = {}

    def join(self, channel: str, socket_id: str, member: PresenceMember | None = None) -> JoinResult:
        """Add a subscriber; for presence, count the user once however many sockets it has."""
        sockets = self._channels.setdefault(channel, {})
        occupied = not sockets
        sockets[socket_id] = None
        if member is None:
            return JoinResult(occupied=occupied, member_added=False)
        members = self._presence.setdefault(channel, {})
        existing = members.get(member.user_id)
        if existing is None:
            members[member.user_id] = _Member(member.user_info, {socket_id: None})
            return JoinResult(occupied=occupied, member_added=True)
        existing.sockets[socket_id] = None
        return JoinResult(occupied=occupied, member_added=False)

    def leave(self, channel: str, socket_id: str, user_id: str | None = None) -> LeaveResult:
        """Remove a subscriber; the user leaves presence only with its last socket."""
        sockets = self._channels.get(channel, {})
        sockets.pop(socket_id, None)
        vacated = not sockets
        if vacated:
            self._channels.pop(channel, None)
        removed = False
        members = self._presence.get(channel)
        if user_id is not None and members is not None:
            member = members.get(user_id)
            if member is not None:
                member.sockets.pop(socket_id, None)
                if not member.sockets:
                    del members[user_id]
                    removed = True
            if not members:
                del self._presence[channel]
        return LeaveResult(vacated=vacated, member_removed=removed)

    def subscribers(self, channel: str) -> list[str]:
        """Socket ids subscribed to `channel`, in subscription order."""
        return list(self._channels.get(channel, ()))

    def has_member(self, channel: str, user_id: str) -> bool:
        """True when `user_id` is present on `channel` through any socket."""
        return user_id in self._presence.get(channel, {})

    def subscription_count(self, channel: str) -> int:
        """Connections subscribed to `channel`."""
        return len(self._channels.get(channel, ()))

    def user_count(self, channel: str) -> int:
        """Distinct users present on `channel`."""
        return len(self._presence.get(channel, ()))

    def user_ids(self, channel: str) -> list[str]:
        """Distinct users present on `channel`, in joining order."""
        return list(self._presence.get(channel, ()))

    def presence_snapshot(self, channel: str) -> dict[str, JsonValue]:
        """`{ids, hash, count}` over distinct users, as subscription_succeeded carries it."""
        members = self._presence.get(channel, {})
        return {
            "ids": list(members),
            "hash": {user_id: member.user_info for user_id, member in members.items()},
            "count": len(members),
        }

    def occupied_channels(self, prefix: str = "") -> list[str]:
        """Channels with at least one subscriber, optionally only those starting with `prefix`."""
        return [name for name in self._channels if name.startswith(prefix)]

    def cache_put(self, channel: str, event: str, data: str, expires_at: float) -> None:
        """Remember the last event of a cache channel."""
        self._cache[channel] = CachedEvent(event, data, expires_at)

    def cache_get(self, channel: str, now: float) -> CachedEvent | None:
        """The cached event of `channel`, forgetting it once expired."""
        cached = self._cache.get(channel)
        if cached is not None and cached.expires_at <= now:
            del self._cache[channel]
            return None
        return cached
