"""Posts webhooks in the background, in order, retrying with backoff; delivery never waits on it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

import httpx

from waxos.pusher_protocol import WebhookEvent, build_webhook

logger = logging.getLogger("waxos.pusher_server.webhooks")


class WebhookSender:
    """A queue of webhook batches and one worker task that posts them to `url`."""

    def __init__(
        self,
        url: str,
        *,
        key: str,
        secret: str,
        timeout: float = 5.0,
        give_up_after: float = 300.0,
        first_delay: float = 0.25,
        max_delay: float = 30.0,
        max_pending: int = 10_000,
        clock: Callable[[], float] = time.time,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url
        self._key = key
        self._secret = secret
        self._timeout = timeout
        self._give_up_after = give_up_after
        self._first_delay = first_delay
        self._max_delay = max_delay
        self._max_pending = max_pending
        self._clock = clock
        self._transport = transport
        self._queue: asyncio.Queue[list[WebhookEvent]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self._client: httpx.AsyncClient | None = None
        self.delivered = 0
        self.dropped = 0

    def submit(self, events: list[WebhookEvent]) -> None:
        """Queue one batch; never blocks. Beyond `max_pending` the batch is dropped and logged."""
        if not events:
            return
        if self._queue.qsize() >= self._max_pending:
            self.dropped += 1
            logger.warning("webhook queue full (%d): dropped %d event(s)", self._max_pending, len(events))
            return
        self._queue.put_nowait(events)

    async def start(self) -> None:
        """Open the HTTP client and start the worker."""
        self._client = httpx.AsyncClient(timeout=self._timeout, transport=self._transport)
        self._worker = asyncio.get_running_loop().create_task(self._run())

    async def aclose(self, drain_timeout: float = 2.0) -> None:
        """Give queued webhooks a moment to go out, then stop the worker and close the client."""
        if self._worker is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._queue.join(), drain_timeout)
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def _run(self) -> None:
        while True:
            events = await self._queue.get()
            try:
                await self._deliver(events)
            except Exception:
                # One batch that cannot be built or sent must not end the worker: logged and dropped.
                self.dropped += 1
                logger.exception("webhook batch dropped: it could not be sent")
            finally:
                self._queue.task_done()

    async def _deliver(self, events: list[WebhookEvent]) -> None:
        assert self._client is not None  # noqa: S101 - start() ran before the worker exists
        started = self._clock()
        delay = self._first_delay
        while True:
            # Signed afresh on each attempt: receivers (the Python SDK among them) reject a
            # time_ms more than five minutes old, and retries may run that long.
            request = build_webhook(
                events, key=self._key, secret=self._secret, time_ms=int(self._clock() * 1000)
            )
            try:
                response = await self._client.post(self.url, content=request.body, headers=request.headers)
                if 200 <= response.status_code < 300:
                    self.delivered += 1
                    return
                problem = f"status {response.status_code}"
            except httpx.HTTPError as exc:
                problem = f"{type(exc).__name__}: {exc}"
            if self._clock() - started + delay > self._give_up_after:
                self.dropped += 1
                logger.error("webhook to %s abandoned after retries (%s)", self.url, problem)
                return
            logger.warning("webhook to %s failed (%s); retrying in %.2fs", self.url, problem, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_delay)
