"""The settings of one Pusher app served locally: credentials, feature switches and limits."""

from __future__ import annotations

from dataclasses import dataclass

from waxos.pusher_protocol.limits import CLIENT_EVENTS_PER_SECOND, MAX_DATA_BYTES, MAX_PRESENCE_MEMBERS

# Not a Pusher limit (it documents none): a bound on what one unauthenticated socket can make the server
# hold. Generous; 0 lifts it.
MAX_SUBSCRIPTIONS_PER_CONNECTION = 1_000


@dataclass(frozen=True, slots=True)
class AppConfig:
    """One app's credentials and behaviour; the defaults are Pusher Channels' own values."""

    app_id: str
    key: str
    secret: str
    enable_client_events: bool = False
    # Pusher's "subscription counting" app setting (off unless enabled, as on Pusher).
    enable_subscription_count: bool = False
    # Pusher advertises 120 s; pusher-js pings after that much silence and expects a reply in 30 s.
    activity_timeout: int = 120
    pong_timeout: float = 30.0
    client_event_rate_limit: int = CLIENT_EVENTS_PER_SECOND
    max_presence_members: int = MAX_PRESENCE_MEMBERS
    max_data_bytes: int = MAX_DATA_BYTES
    max_frame_bytes: int = 16_384
    cache_ttl: float = 1_800.0
    timestamp_tolerance: float = 600.0
    max_subscriptions_per_connection: int = MAX_SUBSCRIPTIONS_PER_CONNECTION

    def __repr__(self) -> str:
        # The secret must never reach a log line, even through an accidental repr.
        return (
            f"AppConfig(app_id={self.app_id!r}, key={self.key!r}, secret='***', "
            f"enable_client_events={self.enable_client_events!r})"
        )
