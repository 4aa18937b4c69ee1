"""`WebhookReceiver`: applies verified deliveries for many concurrent requests, a batch per transaction.

Pusher posts webhooks as things happen, and a busy app sees thousands a second. A transaction per
delivery would spend most of its time on round trips and commits, so deliveries that arrive while a batch
is being applied wait for the next one, which applies them all in one transaction; each request is
answered once that transaction has committed (or failed). An idle receiver applies a lone delivery at
once. If a batch fails, its deliveries are applied one by one, so one delivery the database refuses
cannot hold back the others (Pusher retries the failed one).
"""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from waxos.db.base import utcnow
from waxos.db.engine import transaction
from waxos.webhooks.apply import Verdict, apply_deliveries, forget_old_deliveries
from waxos.webhooks.verify import Delivery

logger = logging.getLogger(__name__)

MAX_BATCH = 200
FORGET_EVERY_SECONDS = 60.0

_Waiting = tuple[Delivery, asyncio.Future[Verdict]]


class WebhookReceiver:
    """Batches concurrent deliveries into one transaction each; see the module docstring."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], max_batch: int = MAX_BATCH) -> None:
        self._sessions = sessions
        self._max_batch = max_batch
        self._waiting: list[_Waiting] = []
        self._worker: asyncio.Task[None] | None = None
        self._next_forget = 0.0

    async def apply(self, delivery: Delivery) -> Verdict:
        """Apply `delivery` (with whatever else is waiting); its verdict once committed."""
        future: asyncio.Future[Verdict] = asyncio.get_running_loop().create_future()
        # Marks an exception as retrieved even if the request has gone away meanwhile.
        future.add_done_callback(lambda done: done.cancelled() or done.exception())
        self._waiting.append((delivery, future))
        if self._worker is None:
            self._worker = asyncio.create_task(self._drain(), name="waxos-webhooks")
        # Shielded: a request that gives up must not cancel the batch others share.
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[: self._max_batch], self._waiting[self._max_batch :]
                try:
                    verdicts = await self._apply([delivery for delivery, _ in batch])
                except Exception as exc:
                    if len(batch) == 1:
                        batch[0][1].set_exception(exc)
                        continue
                    logger.warning("webhook batch of %d failed (%s); applying one by one", len(batch), exc)
                    await self._one_by_one(batch)
                    continue
                for (_, future), verdict in zip(batch, verdicts, strict=True):
                    future.set_result(verdict)
        finally:
            self._worker = None

    async def _one_by_one(self, batch: list[_Waiting]) -> None:
        for delivery, future in batch:
            try:
                (verdict,) = await self._apply([delivery])
            except Exception as exc:
                logger.error("webhook delivery refused by the database: %s", exc)
                future.set_exception(exc)
            else:
                future.set_result(verdict)

    async def _apply(self, deliveries: list[Delivery]) -> list[Verdict]:
        now = utcnow()
        async with transaction(self._sessions) as session:
            verdicts = await apply_deliveries(session, deliveries, now)
            if time.monotonic() >= self._next_forget:
                self._next_forget = time.monotonic() + FORGET_EVERY_SECONDS
                await forget_old_deliveries(session, now)
        return verdicts
