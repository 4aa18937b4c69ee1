"""When to tell a channel's subscribers how many they are: Pusher's subscription counting, throttled.

With the app setting on, Pusher sends `pusher_internal:subscription_count` to the subscribers of a
non-presence channel (and the `subscription_count` webhook) on every subscribe and unsubscribe, but at
most once per 5 s on a channel of more than 100 subscribers. A change inside that window is not lost:
the channel falls due at the window's end, the owner asks `due(now)` then (it learns when from
`next_due()`), and the count sent is the one at that moment.
"""

from __future__ import annotations

THROTTLE_ABOVE = 100
INTERVAL = 5.0


class SubscriptionCounter:
    """Per channel: when its count was last sent, and when a held-back change falls due."""

    def __init__(self) -> None:
        self._sent_at: dict[str, float] = {}
        self._due: dict[str, float] = {}

    def changed(self, channel: str, subscribers: int, now: float) -> bool:
        """The count of `channel` changed to `subscribers`: True when it is to be sent now."""
        if subscribers == 0:
            # Nobody left to tell; the channel is forgotten with its last subscriber.
            self._sent_at.pop(channel, None)
            self._due.pop(channel, None)
            return False
        sent_at = self._sent_at.get(channel)
        if subscribers <= THROTTLE_ABOVE or sent_at is None or now - sent_at >= INTERVAL:
            self._sent_at[channel] = now
            self._due.pop(channel, None)
            return True
        self._due.setdefault(channel, sent_at + INTERVAL)
        return False

    def next_due(self) -> float | None:
        """When the earliest held-back count falls due (None: none is held back)."""
        return min(self._due.values(), default=None)

    def due(self, now: float) -> list[str]:
        """The channels whose held-back count is due at `now`, now marked as sent."""
        ready = [channel for channel, at in self._due.items() if at <= now]
        for channel in ready:
            del self._due[channel]
            self._sent_at[channel] = now
        return ready
