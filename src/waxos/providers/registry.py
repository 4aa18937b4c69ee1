"""The publisher of each configured provider, and which one is active as this process last read it.

Channel auth signs with the active provider's key and secret, on the hot path of every subscription, so
the active provider is read from the database at most once per `ttl` seconds per process (one query a
second, whatever the load). A switch is thus seen by every API instance within `ttl`; a client that
subscribes in that window gets a signature the new provider refuses, and its subscription is retried.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from waxos.config import Settings
from waxos.providers.state import ActiveProvider, Provider, read_active
from waxos.publisher.service import PusherService

DEFAULT_TTL_SECONDS = 1.0


class ProviderServices:
    """`service(provider)` and the cached `active()`; built and closed in the lifespan that owns it."""

    def __init__(
        self,
        settings: Settings,
        sessions: async_sessionmaker[AsyncSession],
        primary: PusherService,
        secondary: PusherService | None = None,
        *,
        ttl: float = DEFAULT_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._sessions = sessions
        self._services = {Provider.PRIMARY: primary}
        if secondary is not None:
            self._services[Provider.SECONDARY] = secondary
        self._ttl = ttl
        self._clock = clock
        self._active: ActiveProvider | None = None
        self._read_at = float("-inf")
        self._lock = asyncio.Lock()

    @classmethod
    def from_settings(
        cls, settings: Settings, sessions: async_sessionmaker[AsyncSession], primary: PusherService
    ) -> ProviderServices:
        """Services for `primary` and, when configured, a secondary publisher built here.

        Both count into the primary's publish metrics: what the active provider did, whichever it is.
        """
        secondary = None
        if settings.secondary_configured:
            secondary = PusherService(settings.for_secondary(), metrics=primary.metrics)
        return cls(settings, sessions, primary, secondary)

    @property
    def configured(self) -> tuple[Provider, ...]:
        """The providers this process can publish to and sign for."""
        return tuple(self._services)

    def service(self, provider: Provider) -> PusherService:
        """The publisher of `provider`; the primary's when `provider` is not configured."""
        return self._services.get(provider, self._services[Provider.PRIMARY])

    def for_key(self, key: str) -> PusherService | None:
        """The publisher of the configured provider whose app key is `key` (a webhook's X-Pusher-Key
        names the app that signed it: verify it with that provider's secret), else None."""
        for service in self._services.values():
            if service.settings.pusher_key == key:
                return service
        return None

    async def active(self) -> ActiveProvider:
        """The active provider, read again once the cached value is `ttl` seconds old."""
        cached = self._fresh()
        if cached is not None:
            return cached
        async with self._lock:  # one reader refreshes; the others wait for its answer
            cached = self._fresh()
            if cached is None:
                async with self._sessions() as session, session.begin():
                    cached = self.note(await read_active(session, self.settings))
        return cached

    def note(self, active: ActiveProvider) -> ActiveProvider:
        """Remember `active` as just read (or just switched to by this process); return what is kept."""
        if self._active is None or active.epoch >= self._active.epoch:
            self._active = active
        self._read_at = self._clock()
        return self._active

    def forget(self) -> None:
        """Read the active provider again at the next `active()` (a switch is known to have happened)."""
        self._read_at = float("-inf")

    def _fresh(self) -> ActiveProvider | None:
        if self._active is not None and self._clock() - self._read_at < self._ttl:
            return self._active
        return None

    async def active_service(self) -> PusherService:
        """The active provider's publisher."""
        return self.service((await self.active()).provider)

    async def aclose(self) -> None:
        """Close every provider's publisher."""
        for service in self._services.values():
            await service.aclose()
