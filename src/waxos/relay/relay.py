"""The relay: delivers logged events to Pusher in per-channel order, batched, retried, never lost.

One round: lease channels that have undelivered events, read up to `per_channel` of each, publish them in
requests of at most 10 events, then mark what Pusher accepted as delivered. A channel's events all go to
one lane, whose requests are sent one after another; lanes hold disjoint channels and run concurrently.
So a channel's order holds even though requests overlap, and a failed request stops its lane: nothing
after it on those channels is sent until it succeeds. Sending is in `lanes.py`.

A round never outlives its leases: no request starts once less than the request timeout is left of the
earliest lease (the rest waits for the next round), and marking checks that the leases are still ours.
Leases are timed on the database's clock, which every relay shares (see `leases`). A round also marks
nothing if the provider switched while it was sending (the epoch it sent under is no longer the one
recorded): those events went to the provider clients are leaving, so the next round sends them to the
new one.

A round returns what it did as a `RoundResult`; the loop decides from that value alone whether to go on
at once, wait for the doorbell, or back off. Two kinds of fault back off differently. An endpoint-wide
one (Pusher unreachable, timing out, 5xx, 401/403/404, 413, 429) opens the breaker: nothing is sent until
its delay has passed, then one probe request. A fault of one channel (an encrypted channel with no
master key configured) holds back that channel alone, with a backoff of its own: every other channel
keeps flowing, and the held channel is tried again when its delay has passed.

The relay sleeps until an emitter's commit rings its doorbell (or PostgreSQL NOTIFY arrives from another
process); a slow sweep is only the safety net. While the breaker is open it waits as `Backoff` says,
ignoring the doorbell: new events accumulate in the log, not in requests to a dead endpoint.
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
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from waxos.config import Settings
from waxos.db.base import utcnow
from waxos.db.engine import make_sessionmaker, read_only, transaction
from waxos.events import terminations, wakeup
from waxos.events.retention import prune
from waxos.providers.registry import ProviderServices
from waxos.providers.state import Provider, held_epoch
from waxos.publisher.service import PusherService
from waxos.relay import leases, outbox, status
from waxos.relay.backoff import Backoff
from waxos.relay.failover import ProviderMetrics, ProviderWatch
from waxos.relay.lanes import LaneResult, RoundSender, into_lanes
from waxos.relay.metrics import RelayMetrics
from waxos.relay.outbox import PendingEvent

logger = logging.getLogger(__name__)

# Terminations sent at once; more wait for the next time (they are rare: access ending).
TERMINATIONS_PER_CALL = 20


def default_owner() -> str:
    """A relay name unique to this process: host, pid and a random suffix."""
    return f"{socket.gethostname()[:60]}-{os.getpid()}-{secrets.token_hex(3)}"


@dataclass(frozen=True, slots=True)
class RelayConfig:
    """Tuning of one relay; the defaults suit production."""

    owner: str = field(default_factory=default_owner)
    # A crashed relay's channels wait this long, plus the other relay's next look (`sweep_seconds`).
    lease_seconds: float = 3.0
    # Bounds each request to Pusher; no request starts with less than this left of the round's leases.
    request_timeout: float = 1.0
    sweep_seconds: float = 1.0
    max_channels: int = 100
    per_channel: int = 100
    lanes: int = 4
    base_delay: float = 0.25
    max_delay: float = 30.0
    retention_hours: float = 72.0
    prune_every_seconds: float = 600.0
    metrics_every_seconds: float = 1.0
    status_every_seconds: float = 5.0
    # How often pending terminate-user-connections requests are looked for (and sent).
    terminate_every_seconds: float = 0.5

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> RelayConfig:
        """The configuration `waxos serve` and `waxos relay` run with.

        The request timeout is `PUSHER_TIMEOUT_SECONDS`, but at most a third of the lease: a request must
        end before the lease it started under can pass to another relay, and a round should have time for
        more than one request per lane.
        """
        lease = overrides.pop("lease_seconds", settings.waxos_relay_lease_seconds)
        return cls(
            lease_seconds=lease,
            request_timeout=min(settings.pusher_timeout_seconds, lease / 3),
            retention_hours=settings.waxos_event_retention_hours,
            **overrides,
        )


class Outcome(enum.Enum):
    """What one round came to, in a word."""

    IDLE = "idle"  # nothing to deliver (or every channel is another relay's, or held back)
    DELIVERED = "delivered"  # what was read went out, except what a channel fault held back
    FAILED = "failed"  # Pusher failed; the breaker is open


@dataclass(frozen=True, slots=True)
class RoundResult:
    """What one round did; the loop acts on this value alone."""

    read: int = 0  # undelivered events read
    delivered: int = 0  # accepted by Pusher and marked delivered
    rejected: int = 0  # refused alone by Pusher (poison): marked delivered, left to catch-up
    more: bool = False  # work left behind (a limit, the lease's end, a probe): go on at once
    retry_in: float | None = None  # Pusher failed: seconds until the breaker lets a probe through
    held: tuple[str, ...] = ()  # channels that failed alone this round and now back off alone

    @property
    def outcome(self) -> Outcome:
        """IDLE, DELIVERED or FAILED."""
        if self.retry_in is not None:
            return Outcome.FAILED
        return Outcome.IDLE if self.read == 0 else Outcome.DELIVERED


class Relay:
    """Publishes the event log to Pusher until stopped; `clock` is monotonic seconds, like `Backoff`'s."""

    def __init__(
        self,
        engine: AsyncEngine,
        publisher: PusherService,
        config: RelayConfig | None = None,
        metrics: RelayMetrics | None = None,
        clock: Callable[[], float] = time.monotonic,
        watch: ProviderWatch | None = None,
    ) -> None:
        self._engine = engine
        self._sessions = make_sessionmaker(engine)
        # Looking for work and reading the backlog never write: no SQLite write lock for them.
        self._reads = make_sessionmaker(read_only(engine))
        self._publisher = publisher
        self.config = config or RelayConfig()
        self.metrics = metrics or RelayMetrics()
        self._clock = clock
        # The breaker of this relay's publisher: endpoint-wide faults open it. One per provider (D7):
        # `backoff` is the active provider's, the others keep their state for when they are active again.
        self.backoff = self._new_backoff()
        self.provider = Provider.PRIMARY
        # The epoch `provider` was active under when last read; None without a watch (primary only).
        self.epoch: int | None = None
        self.breakers = {Provider.PRIMARY: self.backoff}
        # Follows the active provider and switches it when the failover rules say (None: primary only).
        self._watch = watch
        # Channels that failed alone, each backing off on its own; forgotten once they deliver again.
        self.held: dict[str, Backoff] = {}
        # Unexpected errors back off on their own, so they neither open nor close the Pusher breaker.
        self._errors = self._new_backoff()
        self._task: asyncio.Task[None] | None = None
        # Made here, not in `run`, so a stop that comes before the task first runs is not lost.
        self._stopped = asyncio.Event()
        self._doorbell: wakeup.Doorbell | None = None
        self._next_prune = 0.0
        self._next_metrics = 0.0
        self._next_status = 0.0
        self._next_terminations = 0.0
        self._started_at = utcnow()

    def _new_backoff(self) -> Backoff:
        return Backoff(self.config.base_delay, self.config.max_delay, clock=self._clock)

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
        if self.config.lease_seconds / 2 <= self.config.request_timeout:
            logger.warning(
                "relay lease %.1f s is under twice the request timeout: rounds send one request per lane",
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
            await self._follow_provider()
            self.metrics.observe_breaker(self.backoff.state)
            wait = max(self.backoff.delay_remaining(), self._errors.delay_remaining())
            if wait > 0:
                # While the breaker is open, wake up often enough to probe and to switch provider in time.
                await _sleep_unless(stopped, min(wait, self._watch.interval) if self._watch else wait)
                continue
            doorbell.clear()
            try:
                result = await self.run_once()
                await self._housekeeping()
            except (SQLAlchemyError, OSError) as exc:
                logger.error("relay cannot reach the database (%s); retrying", exc)
                result = RoundResult()
            except Exception:
                # Anything else (a decoding error, a bug) must not end the relay while `serve` accepts
                # events: log it, wait as the error backoff says, try again. Cancellation still ends it.
                delay = self._errors.failed()
                logger.exception("relay round failed unexpectedly; next attempt in %.2f s", delay)
                continue
            self._errors.succeeded()
            if result.retry_in is not None or (result.more and not stopped.is_set()):
                continue
            # A round that delivered all it found need not be followed by an empty one: anything
            # committed since the doorbell was cleared has rung it again, so `wait` returns at once.
            # A held channel is due again when its own delay has passed.
            due = min((held.delay_remaining() for held in self.held.values()), default=None)
            sweep = self.config.sweep_seconds if due is None else min(self.config.sweep_seconds, due)
            if not stopped.is_set():
                await doorbell.wait(sweep)

    async def _follow_provider(self) -> None:
        """Tell the watch how our circuit is, let it probe and decide, and deliver to the active provider."""
        if self._watch is None:
            return
        self._watch.circuit(self.provider, self.backoff.failures > 0)
        try:
            active = await self._watch.tick()
        except (SQLAlchemyError, OSError) as exc:
            logger.error("relay cannot read the active provider (%s); staying on %s", exc, self.provider)
            return
        except Exception:
            # Like a failed round: nothing here may end the relay while `serve` accepts events.
            logger.exception("relay: following the active provider failed; staying on %s", self.provider)
            return
        self.epoch = active.epoch
        if active.provider is self.provider:
            return
        self.provider = active.provider
        self._publisher = self._watch.service(active.provider)
        self.backoff = self.breakers.setdefault(active.provider, self._new_backoff())
        # The rules switched to it because it answers (or a person chose it): start with a closed circuit.
        self.backoff.succeeded()

    # One round

    async def run_once(self) -> RoundResult:
        """Lease, read, publish and mark one round of events; return what it did."""
        held = self._held_now()
        # What this round sends to: the active provider as last read, and its epoch to mark under.
        epoch = self.epoch
        started = self._clock()
        pending, lease_left, more = await self._read_round(held)
        if not pending:
            return RoundResult(more=more)
        # No request may start once too little of the lease is left for it to finish (at worst after the
        # request timeout): past the lease another relay may take the channel and send it again.
        timeout = self.config.request_timeout
        deadline = started + lease_left - timeout
        sender = RoundSender(self._publisher, self.metrics, deadline, timeout, self._clock)
        lanes = into_lanes(pending, self.config.lanes)
        if self.backoff.failures:
            # Half-open: one probe request decides whether the endpoint is back.
            results = [await sender.send(lanes[0], max_requests=1)]
            more = True
        else:
            results = list(await asyncio.gather(*(sender.send(lane) for lane in lanes)))
        more = more or any(lane.cut for lane in results)
        done = [event for lane in results for event in (*lane.delivered, *lane.rejected)]
        delivered = await self._mark(done, epoch)
        if delivered is None:  # the provider switched meanwhile: the next round sends these again
            delivered, more = 0, True
        newly_held = self._hold(results)
        failures = [lane.failure for lane in results if lane.failure is not None]
        result = RoundResult(
            read=len(pending),
            delivered=delivered,
            rejected=sum(len(lane.rejected) for lane in results),
            more=more,
            held=newly_held,
        )
        if not failures:
            self.backoff.succeeded()
            return result
        retry_after = max((f.retry_after_seconds or 0.0 for f in failures), default=0.0)
        delay = self.backoff.failed(retry_after or None)
        for failure in failures:
            self.metrics.failed_requests.labels(str(failure.failure)).inc()
        logger.warning(
            "relay: %d event(s) delivered, then %s; next attempt in %.2f s (%d failure(s) in a row)",
            delivered,
            failures[0].failure,
            delay,
            self.backoff.failures,
        )
        return replace(result, retry_in=delay)

    def _held_now(self) -> list[str]:
        """Channels still waiting out their own backoff; the others are due (again)."""
        return sorted(channel for channel, held in self.held.items() if held.delay_remaining() > 0)

    def _hold(self, results: Sequence[LaneResult]) -> tuple[str, ...]:
        """Back off the channels that failed alone; forget those that delivered again."""
        for lane in results:
            for event in lane.delivered:
                self.held.pop(event.channel, None)
        faults = dict(fault for lane in results for fault in lane.faults)
        for channel, reason in faults.items():
            backoff = self.held.setdefault(channel, self._new_backoff())
            delay = backoff.failed()
            # Logged at error: a configuration fault keeps this channel's events undelivered until fixed.
            logger.error(
                "relay: cannot publish to %s: %s; this channel alone retries in %.2f s, the others go on",
                channel,
                reason,
                delay,
            )
        self.metrics.held_channels.set(len(self.held))
        return tuple(sorted(faults))

    async def _read_round(self, held: Sequence[str]) -> tuple[list[PendingEvent], float, bool]:
        """This round's events, the seconds left of the first of their leases, whether more work waits.

        The seconds left count from the start of the read (the caller reads its clock just before).
        Every lease decision is on the database's clock, read by the same statements (`leases`): this
        relay's own clock may be seconds off another relay's, the database's is the one they share.

        While every channel with work is already leased to this relay for at least half the lease term,
        the round is one read-only transaction: on SQLite it takes no write lock, so it neither waits
        for emitting requests nor makes them wait. Otherwise leases are taken or renewed under the write
        lock; a lease is thus renewed at the latest when half its term is left. Channels in `held` are
        left out, so one that fails alone neither takes a place in the round nor keeps its lease.
        """
        config = self.config
        lease = timedelta(seconds=config.lease_seconds)
        async with self._reads() as session:
            candidates, pending = await outbox.work(
                session, config.owner, config.max_channels, config.per_channel, exclude=held
            )
        if not candidates:
            return [], 0.0, False
        # The latest of the database times the rows carry: the lease left is then never overstated.
        now = max(c.now for c in candidates)
        mine = [c.mine_until for c in candidates]
        if all(until is not None and until >= now + lease / 2 for until in mine):
            until = min(until for until in mine if until is not None)
            return pending, (until - now).total_seconds(), self._left_work(candidates, pending)
        async with transaction(self._sessions) as session:
            candidates = await leases.channels_to_claim(
                session, config.owner, config.max_channels, exclude=held
            )
            if not candidates:
                return [], 0.0, False
            now = max(c.now for c in candidates)
            channels = [c.channel for c in candidates]
            channels = await leases.claim(session, channels, config.owner, now, now + lease)
            pending = await outbox.undelivered(session, channels, config.per_channel)
        return pending, config.lease_seconds, self._left_work(candidates, pending)

    def _left_work(self, candidates: Sequence[leases.Candidate], pending: Sequence[PendingEvent]) -> bool:
        """A round that hit a limit (channels, or events of a channel) leaves work for the next one."""
        if len(candidates) >= self.config.max_channels:
            return True
        counts = Counter(event.channel for event in pending)
        return any(count >= self.config.per_channel for count in counts.values())

    async def _mark(self, done: Sequence[PendingEvent], epoch: int | None) -> int | None:
        """Mark `done` delivered where our leases still hold; return how many were marked.

        None, and nothing marked, when the provider epoch is no longer `epoch`, the one the round sent
        under: a switch committed while the round was in flight, so `done` went to the provider clients
        are leaving. The epoch is held until the marks commit, so no switch slips in between.
        """
        if not done:
            return 0
        ranges: dict[str, tuple[int, int]] = {}
        for event in done:
            first, last = ranges.get(event.channel, (event.seq, event.seq))
            ranges[event.channel] = (min(first, event.seq), max(last, event.seq))
        now = utcnow()
        async with transaction(self._sessions) as session:
            recorded = None if epoch is None else await held_epoch(session)
            if recorded == epoch:
                lost = await outbox.mark_delivered(session, ranges, now, self.config.owner)
        if recorded != epoch:
            logger.warning(
                "relay %s: the provider switched (epoch %s to %s) while %d event(s) went to %s; "
                "left undelivered for the new provider",
                self.config.owner,
                epoch,
                recorded,
                len(done),
                self.provider,
            )
            if self._watch is not None:
                self._watch.stale()
            return None
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
        return len(done)

    def snapshot(self) -> status.RelaySnapshot:
        """This relay's health as the console shows it (see `waxos.relay.status`)."""
        settings = self._publisher.settings
        wait = self.backoff.delay_remaining()
        return status.RelaySnapshot(
            owner=self.config.owner,
            provider=self.provider.value,
            endpoint=f"{settings.pusher_api_host}:{settings.pusher_api_port}",
            started_at=self._started_at,
            breaker=self.backoff.state.value,
            consecutive_failures=self.backoff.failures,
            retry_at=utcnow() + timedelta(seconds=wait) if wait > 0 else None,
            delivered=self.metrics.count(self.metrics.delivered),
            rejected=self.metrics.count(self.metrics.rejected),
            failures=self.metrics.failures_by_kind(),
        )

    async def _terminate(self) -> None:
        """Have Pusher close the live connections of users whose access ended (`events.terminations`).

        Only requests whose user channel has nothing undelivered (or that waited too long) are due
        (`terminations.pending`), so the `member.removed` logged with the request has gone out first, by
        whichever relay holds that channel, and the client learns why it was disconnected. A request
        Pusher did not accept stays for the next time.
        """
        async with self._reads() as session:
            requests = await terminations.pending(session, TERMINATIONS_PER_CALL)
        if not requests:
            return
        results = await asyncio.gather(
            *(self._publisher.terminate_user_connections(str(request.user_id)) for request in requests)
        )
        done = [request for request, result in zip(requests, results, strict=True) if result.ok]
        if done:
            async with transaction(self._sessions) as session:
                await terminations.forget(session, done)
            self.metrics.terminated_users.inc(len(done))
            logger.info("relay: closed the connections of %d user(s) whose access ended", len(done))

    async def _housekeeping(self) -> None:
        """Refresh the backlog gauges every second, report status every five, send pending terminations
        every half second, prune every ten minutes."""
        clock = self._clock()
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
        if clock >= self._next_terminations and not self.backoff.failures:
            self._next_terminations = clock + self.config.terminate_every_seconds
            await self._terminate()
        if clock >= self._next_prune:
            self._next_prune = clock + self.config.prune_every_seconds
            removed = await prune(self._sessions, timedelta(hours=self.config.retention_hours), utcnow())
            self.metrics.pruned.inc(removed)


def relay_for(
    settings: Settings, engine: AsyncEngine, providers: ProviderServices, config: RelayConfig | None = None
) -> Relay:
    """A relay for `settings` delivering to the active provider; its metrics beside the publisher's."""
    primary = providers.service(Provider.PRIMARY)
    registry = primary.metrics.registry
    watch = ProviderWatch(providers, make_sessionmaker(engine), ProviderMetrics(registry))
    config = config or RelayConfig.from_settings(settings)
    return Relay(engine, primary, config, RelayMetrics(registry), watch=watch)


async def start_relay(settings: Settings, engine: AsyncEngine, providers: ProviderServices) -> Relay:
    """`relay_for`, running in the background."""
    relay = relay_for(settings, engine, providers)
    await relay.start()
    return relay


async def _sleep_unless(stopped: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await stopped.wait()
