"""The relay: delivers logged events to Pusher in per-channel order, batched, retried, never lost.

One round: lease channels that have undelivered events, read up to `per_channel` of each, publish them in
requests of at most 10 events, then mark what Pusher accepted as delivered. A channel's events all go to
one "lane", whose requests are sent one after another; lanes hold disjoint channels and run concurrently.
So a channel's order holds even though requests overlap, and a failed request stops its lane: nothing
after it on those channels is sent until it succeeds.

A round never outlives its leases: no request starts once less than the publisher's timeout is left of
the earliest lease (the rest waits for the next round), and marking checks that the leases are still ours.
Lane sending is in `relay_lanes.py`.

The relay sleeps until an emitter's commit rings its doorbell (or PostgreSQL NOTIFY arrives from another
process); a slow sweep is only the safety net. After a failure it waits as `Backoff` says, ignoring the
doorbell: new events accumulate in the log, not in requests to a dead endpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import os
import secrets
import socket
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from waxos.config import Settings
from waxos.db.base import utcnow
from waxos.db.engine import make_sessionmaker, read_only, transaction
from waxos.events import wakeup
from waxos.events.retention import prune
from waxos.publisher.service import MAX_EVENTS_PER_BATCH_REQUEST, PusherService
from waxos.relay import leases, outbox, status
from waxos.relay.backoff import Backoff
from waxos.relay.lanes import Lane, RoundSender, into_lanes
from waxos.relay.metrics import RelayMetrics
from waxos.relay.outbox import PendingEvent

logger = logging.getLogger(__name__)


def default_owner() -> str:
    """A relay name unique to this process: host, pid and a random suffix."""
    return f"{socket.gethostname()[:60]}-{os.getpid()}-{secrets.token_hex(3)}"


@dataclass(frozen=True, slots=True)
class RelayConfig:
    """Tuning of one relay; the defaults suit production."""

    owner: str = field(default_factory=default_owner)
    lease_seconds: float = 30.0
    sweep_seconds: float = 2.0
    max_channels: int = 100
    per_channel: int = 100
    lanes: int = 4
    base_delay: float = 0.25
    max_delay: float = 30.0
    retention_hours: float = 72.0
    prune_every_seconds: float = 600.0
    metrics_every_seconds: float = 1.0
    status_every_seconds: float = 5.0


class Outcome(enum.Enum):
    """What one round came to."""

    IDLE = "idle"  # nothing to deliver (or every channel is another relay's)
    DELIVERED = "delivered"  # everything read was delivered; there may be more
    FAILED = "failed"  # Pusher failed; the relay now waits as the backoff says


class Relay:
    """Publishes the event log to Pusher until stopped."""

    def __init__(
        self,
        engine: AsyncEngine,
        publisher: PusherService,
        config: RelayConfig | None = None,
        metrics: RelayMetrics | None = None,
    ) -> None:
        self._engine = engine
        self._sessions = make_sessionmaker(engine)
        # Looking for work and reading the backlog never write: no SQLite write lock for them.
        self._reads = make_sessionmaker(read_only(engine))
        self._publisher = publisher
        self.config = config or RelayConfig()
        self.metrics = metrics or RelayMetrics()
        self.backoff = Backoff(self.config.base_delay, self.config.max_delay, clock=time.monotonic)
        # Unexpected errors back off on their own, so they neither open nor close the Pusher breaker.
        self._errors = Backoff(self.config.base_delay, self.config.max_delay, clock=time.monotonic)
        self._task: asyncio.Task[None] | None = None
        # Made here, not in `run`, so a stop that comes before the task first runs is not lost.
        self._stopped = asyncio.Event()
        self._doorbell: wakeup.Doorbell | None = None
        self._next_prune = 0.0
        self._next_metrics = 0.0
        self._next_status = 0.0
        self._started_at = utcnow()
        # Set by a round that left work behind (a limit reached, or a half-open probe sent).
        self._more = False

    # Lifecycle

    async def start(self) -> None:
        """Run in the background of the current event loop."""
        self._task = asyncio.create_task(self.run(), name="waxos-relay")

    async def aclose(self, grace_seconds: float = 10.0) -> None:
        """Stop after the round in progress (or cancel it after `grace_seconds`), releasing leases."""
        self.stop()
        if self._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(self._task), grace_seconds)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def stop(self) -> None:
        """Ask `run` to return after the round in progress."""
        self._stopped.set()
        if self._doorbell is not None:
            self._doorbell.ring()

    async def run(self) -> None:
        """Deliver until `stop`: wake on commits, back off on failures, sweep now and then."""
        self._doorbell = wakeup.Doorbell()
        unregister = wakeup.register(self._engine.url, self._doorbell)
        listener = None
        if self._engine.dialect.name == "postgresql":
            listener = wakeup.PostgresListener(self._engine.url, self._doorbell)
            listener.start()
        logger.info("relay %s started", self.config.owner)
        if self.config.lease_seconds / 2 <= self._publisher.settings.pusher_timeout_seconds:
            logger.warning(
                "relay lease %.1f s is under twice the Pusher timeout: rounds send one request per lane",
                self.config.lease_seconds,
            )
        self.metrics.running.set(1)
        try:
            await self._loop(self._stopped, self._doorbell)
        finally:
            self.metrics.running.set(0)
            unregister()
            if listener is not None:
                await listener.stop()
            with contextlib.suppress(SQLAlchemyError, OSError):
                async with transaction(self._sessions) as session:
                    await leases.release(session, self.config.owner)
                    await status.forget(session, self.config.owner)
            logger.info("relay %s stopped", self.config.owner)

    async def _loop(self, stopped: asyncio.Event, doorbell: wakeup.Doorbell) -> None:
        while not stopped.is_set():
            wait = self.backoff.delay_remaining()
            self.metrics.observe_breaker(self.backoff.state)
            if wait > 0:
                await _sleep_unless(stopped, wait)
                continue
            wait = self._errors.delay_remaining()
            if wait > 0:
                await _sleep_unless(stopped, wait)
                continue
            doorbell.clear()
            try:
                outcome = await self.run_once()
                await self._housekeeping()
            except (SQLAlchemyError, OSError) as exc:
                logger.error("relay cannot reach the database (%s); retrying", exc)
                outcome = Outcome.IDLE
            except Exception:
                # Anything else (a decoding error, a bug) must not end the relay while `serve` accepts
                # events: log it, wait as the error backoff says, try again. Cancellation still ends it.
                delay = self._errors.failed()
                logger.exception("relay round failed unexpectedly; next attempt in %.2f s", delay)
                continue
            self._errors.succeeded()
            # A round that delivered all it found need not be followed by an empty one: anything
            # committed since the doorbell was cleared has rung it again, so `wait` returns at once.
            finished = outcome is Outcome.IDLE or (outcome is Outcome.DELIVERED and not self._more)
            if finished and not stopped.is_set():
                await doorbell.wait(self.config.sweep_seconds)

    # One round

    async def run_once(self) -> Outcome:
        """Lease, read, publish and mark one round of events."""
        self._more = False
        pending, lease_until = await self._read_round()
        if not pending:
            return Outcome.IDLE
        # No request may start once too little of the lease is left for it to finish (at worst after the
        # publisher's timeout): past the lease another relay may take the channel and send it again.
        left = (lease_until - utcnow()).total_seconds() - self._publisher.settings.pusher_timeout_seconds
        deadline = time.monotonic() + left
        lanes = into_lanes(pending, self.config.lanes)
        if self.backoff.failures:
            # Half-open: one probe request decides whether the endpoint is back.
            self._more = True
            lanes = [Lane(lanes[0].events[:MAX_EVENTS_PER_BATCH_REQUEST])]
        sender = RoundSender(self._publisher, self.metrics, deadline)
        await asyncio.gather(*(sender.send(lane) for lane in lanes))
        if any(lane.cut for lane in lanes):
            # The lease's end is near: what was sent is marked, the rest goes in the next round.
            self._more = True
        done = [event for lane in lanes for event in lane.done]
        await self._mark(done)
        failures = [lane.failure for lane in lanes if lane.failure is not None]
        if failures:
            retry_after = max((f.retry_after_seconds or 0.0 for f in failures), default=0.0)
            delay = self.backoff.failed(retry_after or None)
            for failure in failures:
                self.metrics.failed_requests.labels(str(failure.failure)).inc()
            logger.warning(
                "relay: %d event(s) delivered, then %s; next attempt in %.2f s (%d failure(s) in a row)",
                len(done),
                failures[0].failure,
                delay,
                self.backoff.failures,
            )
            return Outcome.FAILED
        self.backoff.succeeded()
        return Outcome.DELIVERED

    async def _read_round(self) -> tuple[list[PendingEvent], datetime]:
        """This round's events and when the first of their leases ends; sets `_more` when more may wait.

        While every channel with work is already leased to this relay for at least half the lease term,
        the round is one read-only transaction: on SQLite it takes no write lock, so it neither waits
        for emitting requests nor makes them wait. Otherwise leases are taken or renewed under the write
        lock as before; a lease is thus renewed at the latest when half its term is left.
        """
        config = self.config
        now = utcnow()
        renew_before = now + timedelta(seconds=config.lease_seconds / 2)
        async with self._reads() as session:
            candidates = await leases.channels_to_claim(session, config.owner, now, config.max_channels)
            if all(c.mine_until is not None and c.mine_until >= renew_before for c in candidates):
                pending = await outbox.undelivered(
                    session, [c.channel for c in candidates], config.per_channel
                )
                self._note_more(candidates, pending)
                until = min((c.mine_until for c in candidates if c.mine_until is not None), default=now)
                return pending, until
        until = now + timedelta(seconds=config.lease_seconds)
        async with transaction(self._sessions) as session:
            candidates = await leases.channels_to_claim(session, config.owner, now, config.max_channels)
            channels = await leases.claim(session, [c.channel for c in candidates], config.owner, now, until)
            pending = await outbox.undelivered(session, channels, config.per_channel)
        self._note_more(candidates, pending)
        return pending, until

    def _note_more(self, candidates: Sequence[leases.Candidate], pending: Sequence[PendingEvent]) -> None:
        """A round that hit a limit (channels, or events of a channel) leaves work for the next one."""
        if len(candidates) >= self.config.max_channels:
            self._more = True
            return
        counts: dict[str, int] = {}
        for event in pending:
            counts[event.channel] = counts.get(event.channel, 0) + 1
        self._more = any(count >= self.config.per_channel for count in counts.values())

    async def _mark(self, done: Sequence[PendingEvent]) -> None:
        if not done:
            return
        ranges: dict[str, tuple[int, int]] = {}
        for event in done:
            first, last = ranges.get(event.channel, (event.seq, event.seq))
            ranges[event.channel] = (min(first, event.seq), max(last, event.seq))
        now = utcnow()
        async with transaction(self._sessions) as session:
            lost = await outbox.mark_delivered(session, ranges, now, self.config.owner)
        if lost:
            # The round outlived a lease: the relay holding it now (re)sends these (at-least-once).
            logger.warning(
                "relay %s: lease lost before marking %s; left for the relay that holds it",
                self.config.owner,
                ", ".join(lost[:5]) + (" …" if len(lost) > 5 else ""),
            )
            done = [event for event in done if event.channel not in lost]
        self.metrics.delivered.inc(len(done))
        for event in done:
            self.metrics.delivery_latency.observe(max(0.0, (now - event.occurred_at).total_seconds()))

    def snapshot(self) -> status.RelaySnapshot:
        """This relay's health as the console shows it (see `waxos.relay.status`)."""
        settings = self._publisher.settings
        wait = self.backoff.delay_remaining()
        return status.RelaySnapshot(
            owner=self.config.owner,
            provider="primary",
            endpoint=f"{settings.pusher_api_host}:{settings.pusher_api_port}",
            started_at=self._started_at,
            breaker=self.backoff.state.value,
            consecutive_failures=self.backoff.failures,
            retry_at=utcnow() + timedelta(seconds=wait) if wait > 0 else None,
            delivered=self.metrics.count(self.metrics.delivered),
            rejected=self.metrics.count(self.metrics.rejected),
            failures=self.metrics.failures_by_kind(),
        )

    async def _housekeeping(self) -> None:
        """Refresh the backlog gauges every second, report status every five, prune every ten minutes."""
        clock = time.monotonic()
        if clock >= self._next_metrics:
            self._next_metrics = clock + self.config.metrics_every_seconds
            async with self._reads() as session:
                count, oldest = await outbox.backlog(session)
            self.metrics.backlog.set(count)
            self.metrics.oldest_age.set((utcnow() - oldest).total_seconds() if oldest else 0.0)
        if clock >= self._next_status:
            self._next_status = clock + self.config.status_every_seconds
            async with transaction(self._sessions) as session:
                await status.report(session, self.snapshot(), utcnow())
        if clock >= self._next_prune:
            self._next_prune = clock + self.config.prune_every_seconds
            removed = await prune(self._sessions, timedelta(hours=self.config.retention_hours), utcnow())
            self.metrics.pruned.inc(removed)


async def start_relay(settings: Settings, engine: AsyncEngine, publisher: PusherService) -> Relay:
    """A relay for `settings`, running in the background, its metrics beside the publisher's."""
    relay = Relay(
        engine,
        publisher,
        RelayConfig(retention_hours=settings.waxos_event_retention_hours),
        RelayMetrics(publisher.metrics.registry),
    )
    await relay.start()
    return relay


async def _sleep_unless(stopped: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stopped.wait()
