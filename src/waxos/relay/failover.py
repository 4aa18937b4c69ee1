"""The relay's side of provider failover: follow the active provider, probe the other, switch when due.

Every relay re-reads the active provider (at most once a second) and delivers to it; when it sees a new
epoch it says so in the log and the metrics, and announces it with `provider.changed` on the public
notice channel of both providers, so that clients live on the provider being left reconnect at once
(the clients that matter most are polling anyway and learn the epoch from their next poll). Every relay
also probes the provider it is not using with one signed read call every `probe_seconds`, and records
whether its own circuit to the active one is open; `providers.failover.decide` turns that into a switch,
made with a compare-and-set on the epoch, so several relays deciding together switch once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from waxos.db.engine import transaction
from waxos.providers.failover import FailoverRules, Observed, decide
from waxos.providers.registry import ProviderServices
from waxos.providers.state import NOTICE_CHANNEL, NOTICE_EVENT, ActiveProvider, ChangedBy, Provider, switch
from waxos.publisher.service import PublishInvalid, PusherService

logger = logging.getLogger(__name__)


class ProviderMetrics:
    """Which provider is active, its epoch, the switches this relay saw, each provider's circuit."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.active = Gauge(
            "waxos_provider_active",
            "1 for the provider the relay delivers to, 0 for the other",
            ["provider"],
            registry=self.registry,
        )
        self.epoch = Gauge("waxos_provider_epoch", "The active provider's epoch", registry=self.registry)
        self.switches = Counter(
            "waxos_provider_switches",
            "Provider switches this relay has seen, by provider switched to and by whom (auto, manual)",
            ["to", "by"],
            registry=self.registry,
        )
        # Every series exists from the start at 0, so the first switch is an increase alerts can see.
        for to in Provider:
            for by in (ChangedBy.AUTO, ChangedBy.MANUAL):
                self.switches.labels(to.value, by.value)
        self.circuit_open = Gauge(
            "waxos_provider_circuit_open",
            "1 while the provider fails: the active one's circuit is open, or the other's last probe failed",
            ["provider"],
            registry=self.registry,
        )


class ProviderWatch:
    """One relay's view of the providers; `current()` before each round, `tick()` after it."""

    def __init__(
        self,
        services: ProviderServices,
        sessions: async_sessionmaker[AsyncSession],
        metrics: ProviderMetrics,
        *,
        rules: FailoverRules | None = None,
        probe_seconds: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        settings = services.settings
        self._services = services
        self._sessions = sessions
        self.metrics = metrics
        self.rules = rules or FailoverRules.from_settings(settings)
        self._probe_seconds = probe_seconds or settings.waxos_provider_probe_seconds
        self._clock = clock
        self.observed = Observed()
        self.active: ActiveProvider | None = None
        self._next_probe = 0.0

    async def current(self) -> ActiveProvider:
        """The active provider; a new epoch since the last call is logged, counted and announced."""
        active = await self._services.active()
        if self.active is None or active.epoch != self.active.epoch:
            await self._changed(self.active, active)
        return active

    def stale(self) -> None:
        """The recorded epoch has moved on (seen while marking): the next `tick()` reads it again."""
        self._services.forget()

    @property
    def interval(self) -> float:
        """How long the relay may sleep between two ticks (while its breaker keeps it from sending)."""
        return min(self._probe_seconds, 1.0)

    def service(self, provider: Provider) -> PusherService:
        """The publisher of `provider`."""
        return self._services.service(provider)

    def circuit(self, provider: Provider, is_open: bool) -> None:
        """Record whether this relay's circuit to `provider` is open now."""
        self.observed.circuit(provider, is_open, self._clock())
        self.metrics.circuit_open.labels(provider.value).set(1 if is_open else 0)

    async def tick(self) -> ActiveProvider:
        """Probe the other provider when due, then switch if the rules say so; the active provider after."""
        active = await self.current()
        now = self._clock()
        other = active.provider.other
        if other in self._services.configured and now >= self._next_probe:
            self._next_probe = now + self._probe_seconds
            result = await self._services.service(other).channels_info()
            self.observed.probe(other, result.ok, self._clock())
            self.metrics.circuit_open.labels(other.value).set(0 if result.ok else 1)
        wanted = decide(self.rules, active, self._services.configured, self.observed, self._clock())
        if wanted is None:
            return active
        async with transaction(self._sessions) as session:
            switched = await switch(
                session,
                self._services.settings,
                wanted.to,
                seen_epoch=active.epoch,
                by=ChangedBy.AUTO,
                reason=wanted.reason,
            )
        if switched is None:  # another relay (or a person) switched first: take what is recorded now
            return await self.current()
        self._services.note(switched)
        return await self.current()

    async def _changed(self, before: ActiveProvider | None, after: ActiveProvider) -> None:
        self.active = after
        self.observed.forget()
        self._next_probe = 0.0
        for provider in Provider:
            self.metrics.active.labels(provider.value).set(1 if provider is after.provider else 0)
        self.metrics.epoch.set(after.epoch)
        if before is None:
            logger.info("relay delivers to the %s provider (epoch %d)", after.provider, after.epoch)
            return
        self.metrics.switches.labels(after.provider.value, after.changed_by.value).inc()
        logger.warning(
            "provider switched from %s to %s (epoch %d, %s): %s",
            before.provider,
            after.provider,
            after.epoch,
            after.changed_by,
            after.reason,
        )
        notice = {"epoch": after.epoch, "provider": after.provider.value}
        for provider in self._services.configured:
            try:
                await self._services.service(provider).trigger(NOTICE_CHANNEL, NOTICE_EVENT, notice)
            except PublishInvalid as exc:  # a bug, not an outage: the notice is a convenience
                logger.error("provider.changed notice refused: %s", exc)
