"""Waking the relay the moment events are committed: an in-process doorbell and PostgreSQL LISTEN.

Emitters are plain functions given a session; they cannot know which relay runs where. So a relay
registers a `Doorbell` under its database URL, and the commit hook of `waxos.events.writer` rings every
doorbell registered for that database in this process. Relays in other processes hear PostgreSQL's
NOTIFY, which the database sends only when the emitting transaction commits. On SQLite across processes
the relay's slow sweep is the only signal; that is the single-box default, where the relay runs inside
`waxos serve` next to the emitters.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import URL, make_url

logger = logging.getLogger(__name__)

NOTIFY_CHANNEL = "waxos_realtime"
_RECONNECT_SECONDS = 2.0


class Doorbell:
    """A wake-up signal for one relay's event loop, safe to ring from any thread."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._loop = asyncio.get_running_loop()

    def ring(self) -> None:
        """Wake the relay (idempotent)."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._event.set()
        else:
            self._loop.call_soon_threadsafe(self._event.set)

    def clear(self) -> None:
        """Forget earlier rings; called before looking for work so no ring is lost."""
        self._event.clear()

    async def wait(self, seconds: float) -> bool:
        """Wait for a ring for at most `seconds`; True if it rang."""
        try:
            async with asyncio.timeout(seconds):
                await self._event.wait()
        except TimeoutError:
            return False
        return True


_doorbells: dict[str, set[Doorbell]] = {}


def database_key(url: str | URL) -> str:
    """The key doorbells are filed under: the URL without its password."""
    return make_url(url).render_as_string(hide_password=True)


def register(url: str | URL, doorbell: Doorbell) -> Callable[[], None]:
    """Ring `doorbell` after every commit that logged events to this database; returns the undo."""
    key = database_key(url)
    _doorbells.setdefault(key, set()).add(doorbell)

    def unregister() -> None:
        bells = _doorbells.get(key)
        if bells is not None:
            bells.discard(doorbell)
            if not bells:
                del _doorbells[key]

    return unregister


def ring(url: str | URL) -> None:
    """Ring every doorbell registered for this database."""
    for doorbell in tuple(_doorbells.get(database_key(url), ())):
        doorbell.ring()


class PostgresListener:
    """Holds one connection that LISTENs for commits of other processes and rings a doorbell.

    If the connection drops, it reconnects every two seconds; the relay's sweep covers the gap.
    """

    def __init__(self, url: str | URL, doorbell: Doorbell) -> None:
        parsed = make_url(url)
        self._connect_args = {
            "host": parsed.host,
            "port": parsed.port or 5432,
            "user": parsed.username,
            "password": parsed.password,
            "database": parsed.database,
        }
        self._doorbell = doorbell
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin listening in the background."""
        self._task = asyncio.create_task(self._run(), name="waxos-relay-listen")

    async def stop(self) -> None:
        """Stop listening and close the connection."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            try:
                await self._listen_until_lost()
                logger.warning("relay lost its LISTEN connection; reconnecting")
            except (OSError, asyncpg.PostgresError) as exc:
                logger.warning("relay cannot LISTEN (%s); retrying in %.0f s", exc, _RECONNECT_SECONDS)
            await asyncio.sleep(_RECONNECT_SECONDS)

    async def _listen_until_lost(self) -> None:
        connection = await asyncpg.connect(**self._connect_args)
        try:
            lost = asyncio.Event()
            connection.add_termination_listener(lambda _conn: lost.set())
            await connection.add_listener(NOTIFY_CHANNEL, lambda *_args: self._doorbell.ring())
            # Anything committed while we were not listening is found by this first look.
            self._doorbell.ring()
            await lost.wait()
        finally:
            if not connection.is_closed():
                with contextlib.suppress(Exception):
                    await asyncio.shield(connection.close(timeout=2))
