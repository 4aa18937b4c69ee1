"""Sending one relay round: lanes of sequential requests, poison isolation, and the round's deadline."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from waxos.publisher.results import FailureKind, PusherResult
from waxos.publisher.service import (
    MAX_EVENTS_PER_BATCH_REQUEST,
    EncryptionNotConfigured,
    OutgoingEvent,
    PublishInvalid,
    PusherService,
)
from waxos.relay.metrics import RelayMetrics
from waxos.relay.outbox import PendingEvent

logger = logging.getLogger(__name__)

# Only a 400 means Pusher refused the request's content. Every envelope fits 10,240 bytes (emit checks it),
# so a 413 means the account's message quota is spent: retried like 401/403/404, which retrying later may
# fix and skipping events never would.
POISON_STATUSES = frozenset({400})


@dataclass
class Lane:
    """The channels one sequence of requests carries, and what became of their events."""

    events: list[PendingEvent] = field(default_factory=list)
    done: list[PendingEvent] = field(default_factory=list)
    failure: PusherResult | None = None
    requests: int = 0
    # Set when the round's deadline stopped the lane with events left unsent (not a failure).
    cut: bool = False


def into_lanes(pending: Sequence[PendingEvent], lanes: int) -> list[Lane]:
    """Spread channels over at most `lanes` lanes, busiest first, keeping each channel in one lane."""
    by_channel: dict[str, list[PendingEvent]] = {}
    for event in pending:
        by_channel.setdefault(event.channel, []).append(event)
    result = [Lane() for _ in range(min(lanes, len(by_channel)))]
    for events in sorted(by_channel.values(), key=len, reverse=True):
        min(result, key=lambda lane: len(lane.events)).events.extend(events)
    return result


class RoundSender:
    """Sends lanes for one round; no lane starts a request after `deadline` (a `clock` reading).

    A lane's first request always goes, so a relay whose lease is shorter than the publisher's timeout
    still makes progress; what it sends past its lease is at worst sent twice (marking checks the lease).
    """

    def __init__(
        self,
        publisher: PusherService,
        metrics: RelayMetrics,
        deadline: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._publisher = publisher
        self._metrics = metrics
        self._deadline = deadline
        self._clock = clock

    async def send(self, lane: Lane) -> None:
        """Send the lane's events in requests of at most 10, stopping at a failure or the deadline."""
        for start in range(0, len(lane.events), MAX_EVENTS_PER_BATCH_REQUEST):
            lane.failure = await self._publish(
                lane.events[start : start + MAX_EVENTS_PER_BATCH_REQUEST], lane
            )
            if lane.failure is not None or lane.cut:
                return

    def _may_start(self, lane: Lane) -> bool:
        if lane.requests and self._clock() >= self._deadline:
            lane.cut = True
            return False
        lane.requests += 1
        return True

    async def _publish(self, chunk: Sequence[PendingEvent], lane: Lane) -> PusherResult | None:
        """Send one request; record what was done; return the failure that must stop the lane."""
        if not self._may_start(lane):
            return None
        outgoing = [OutgoingEvent(event.channel, event.type, event.payload) for event in chunk]
        try:
            result = (await self._publisher.trigger_batch(outgoing)).chunks[0]
        except EncryptionNotConfigured as exc:
            # A configuration fault, like bad credentials: retried with backoff, never skipped, so setting
            # the key loses nothing.
            logger.error("relay: cannot publish to %s: %s; retrying with backoff", chunk[0].channel, exc)
            return PusherResult(False, FailureKind.INVALID, None, f"configuration: {exc}", events=len(chunk))
        except PublishInvalid as exc:
            result = PusherResult(False, FailureKind.INVALID, 400, str(exc), events=len(chunk))
        if result.ok:
            lane.done.extend(chunk)
            return None
        if result.failure is not FailureKind.INVALID or result.status not in POISON_STATUSES:
            return result
        if len(chunk) > 1:
            # One bad event must not hold back the others: find it by sending them one at a time.
            for event in chunk:
                failure = await self._publish([event], lane)
                if failure is not None or lane.cut:
                    return failure
            return None
        (event,) = chunk
        logger.error(
            "relay: Pusher refused %s seq %d of %s (%s); it stays available through catch-up",
            event.type,
            event.seq,
            event.channel,
            result.reason,
        )
        self._metrics.rejected.inc()
        lane.done.append(event)
        return None
