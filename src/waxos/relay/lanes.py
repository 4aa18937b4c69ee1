"""Sending one relay round: lanes of sequential requests, poison isolation, channel faults, the deadline."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from waxos.publisher.results import FailureKind, PusherResult
from waxos.publisher.service import EncodedEvent, EncryptionNotConfigured, PusherService
from waxos.pusher_protocol.limits import MAX_BATCH_EVENTS
from waxos.relay.metrics import RelayMetrics
from waxos.relay.outbox import PendingEvent

logger = logging.getLogger(__name__)

# Only a 400 means Pusher refused the request's content. Every envelope fits 10,240 bytes (emit checks it),
# so a 413 means the account's message quota is spent: retried like 401/403/404, which retrying later may
# fix and skipping events never would.
POISON_STATUSES = frozenset({400})


@dataclass(frozen=True, slots=True)
class LaneResult:
    """What one lane's requests came to.

    `delivered` Pusher accepted; `rejected` it refused one at a time (400): both are marked delivered, the
    rejected ones staying in the log for catch-up. `failure` is Pusher's answer that stopped the lane, an
    endpoint-wide fault (unreachable, 5xx, 401, 429...). `faults` names the channels the publisher cannot
    send to at all (an encrypted channel without a master key): their events were left unsent, the rest of
    the lane went on. `cut` is set when the round's deadline stopped the lane with events left.
    """

    delivered: tuple[PendingEvent, ...] = ()
    rejected: tuple[PendingEvent, ...] = ()
    failure: PusherResult | None = None
    faults: tuple[tuple[str, str], ...] = ()
    cut: bool = False


def into_lanes(pending: Sequence[PendingEvent], lanes: int) -> list[list[PendingEvent]]:
    """Spread channels over at most `lanes` lanes, busiest first, keeping each channel in one lane."""
    by_channel: dict[str, list[PendingEvent]] = {}
    for event in pending:
        by_channel.setdefault(event.channel, []).append(event)
    result: list[list[PendingEvent]] = [[] for _ in range(min(lanes, len(by_channel)))]
    for events in sorted(by_channel.values(), key=len, reverse=True):
        min(result, key=len).extend(events)
    return result


def encoded(event: PendingEvent) -> EncodedEvent:
    """The logged envelope as sent: emit validated and encoded it, so the publisher checks nothing again."""
    return EncodedEvent(event.channel, event.type, event.payload, event.socket_id)


class RoundSender:
    """Sends lanes for one round; no lane starts a request after `deadline` (a `clock` reading).

    A lane's first request always goes, so a relay whose lease is shorter than the request timeout still
    makes progress; what it sends past its lease is at worst sent twice (marking checks the lease).
    """

    def __init__(
        self,
        publisher: PusherService,
        metrics: RelayMetrics,
        deadline: float,
        timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._publisher = publisher
        self._metrics = metrics
        self._deadline = deadline
        self._timeout = timeout
        self._clock = clock
        self._endpoint_ok: bool | None = None

    async def _endpoint_answers(self) -> bool:
        """Whether the endpoint answers a signed read (asked once per round, at the first refused event).

        A 400 marks an event delivered unsent, so it must be that event's fault: an endpoint that answers
        400 to everything (a reverse proxy, a plain-HTTP request to a TLS port) would otherwise mark the
        whole backlog delivered while the breaker stays closed and the backlog alerts stay quiet.
        """
        if self._endpoint_ok is None:
            try:
                async with asyncio.timeout(self._timeout):
                    self._endpoint_ok = (await self._publisher.channels_info()).ok
            except TimeoutError:
                self._endpoint_ok = False
        return self._endpoint_ok

    async def send(self, lane: Sequence[PendingEvent], max_requests: int | None = None) -> LaneResult:
        """Send the lane's events in order, in requests of at most 10, until done, a failure or the deadline.

        After a refusal (400) the refused request's events are re-sent one at a time, so one bad event
        cannot hold back the others; an event refused alone is skipped only if the endpoint answers a
        signed read (else the refusal is the endpoint's, and ends the lane as a failure).
        `max_requests` bounds the requests (a half-open probe sends one).
        """
        queue = list(lane)
        delivered: list[PendingEvent] = []
        rejected: list[PendingEvent] = []
        faults: dict[str, str] = {}
        requests = 0
        singles = 0  # events still to send one at a time after a refused request

        def result(failure: PusherResult | None = None, cut: bool = False) -> LaneResult:
            return LaneResult(tuple(delivered), tuple(rejected), failure, tuple(faults.items()), cut)

        while queue:
            if requests and (self._clock() >= self._deadline or requests == max_requests):
                return result(cut=True)
            chunk = queue[: 1 if singles else MAX_BATCH_EVENTS]
            try:
                answer = await self._publisher.send_batch([encoded(e) for e in chunk], self._timeout)
            except EncryptionNotConfigured as exc:
                # A fault of this channel alone (a configuration one, so its events are kept, never
                # skipped): leave its events for later and let the lane's other channels go on.
                channel = exc.channel or chunk[0].channel
                faults[channel] = str(exc)
                queue = [event for event in queue if event.channel != channel]
                continue
            requests += 1
            if answer.ok:
                delivered.extend(chunk)
            elif answer.failure is FailureKind.INVALID and answer.status in POISON_STATUSES:
                if len(chunk) > 1:
                    singles = len(chunk)
                    continue
                if not await self._endpoint_answers():
                    # Not this event's fault: the endpoint refuses everything (a proxy, a wrong host).
                    return result(failure=answer)
                self._reject(chunk[0], answer)
                rejected.extend(chunk)
            else:
                return result(failure=answer)
            del queue[: len(chunk)]
            singles = max(0, singles - 1)
        return result()

    def _reject(self, event: PendingEvent, answer: PusherResult) -> None:
        logger.error(
            "relay: Pusher refused %s seq %d of %s (%s); it stays available through catch-up",
            event.type,
            event.seq,
            event.channel,
            answer.reason,
        )
        self._metrics.rejected.inc()
