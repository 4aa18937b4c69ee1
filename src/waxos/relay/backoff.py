"""When the relay may call Pusher again: exponential backoff with jitter, `Retry-After`, a circuit breaker.

The breaker is the backoff seen as states. CLOSED: publish at full speed. OPEN: the endpoint failed; send
nothing until the delay has passed, however many events arrive (they wait safely in the log). HALF_OPEN:
the delay has passed; send one probe request, and only a success closes the breaker again. Every failure
while open or probing doubles the delay, up to `max_delay`, so a dead endpoint costs one request per
`max_delay` seconds rather than a busy loop.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable
from dataclasses import dataclass, field


class BreakerState(enum.StrEnum):
    """Whether the relay publishes freely, waits, or probes."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass
class Backoff:
    """Delays between attempts after consecutive failures; `clock` is monotonic seconds."""

    base_delay: float = 0.25
    max_delay: float = 30.0
    clock: Callable[[], float] = field(default=lambda: 0.0)
    jitter: Callable[[], float] = field(default=random.random)
    failures: int = 0
    retry_at: float = 0.0

    @property
    def state(self) -> BreakerState:
        """The breaker state at this moment."""
        if self.failures == 0:
            return BreakerState.CLOSED
        return BreakerState.OPEN if self.clock() < self.retry_at else BreakerState.HALF_OPEN

    def delay_remaining(self) -> float:
        """Seconds until the next attempt is allowed (0 when closed or half-open)."""
        return max(0.0, self.retry_at - self.clock()) if self.failures else 0.0

    def failed(self, retry_after: float | None = None) -> float:
        """Record a failed attempt; return the delay chosen before the next one."""
        self.failures += 1
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** (self.failures - 1))
        # "Equal jitter": at least half the exponential delay, so retries never bunch up near zero,
        # and a random other half, so several relays that failed together do not retry together.
        delay = ceiling / 2 + self.jitter() * ceiling / 2
        if retry_after is not None:
            delay = max(delay, retry_after)
        self.retry_at = self.clock() + delay
        return delay

    def succeeded(self) -> None:
        """Record a successful attempt: back to full speed."""
        self.failures = 0
        self.retry_at = 0.0
