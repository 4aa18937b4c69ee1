"""Pruning: keep the event log bounded by dropping delivered events older than the retention period.

Each channel loses only a prefix of its log, up to (not including) its first event that is either recent
or still undelivered, so what remains is always a contiguous range `pruned_seq + 1 .. head_seq`, and
catch-up can tell exactly which positions it can still serve. Undelivered events are never pruned.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from waxos.db.engine import transaction
from waxos.events.tables import ChannelHead, LoggedEvent


async def prune(sessions: async_sessionmaker[AsyncSession], retention: timedelta, now: datetime) -> int:
    """Remove what the retention period lets go, one channel per transaction; return how many events."""
    cutoff = now - retention
    keep = or_(LoggedEvent.occurred_at >= cutoff, LoggedEvent.delivered_at.is_(None))
    async with sessions() as session:
        bounds = (
            await session.execute(
                select(
                    LoggedEvent.channel,
                    func.min(case((keep, LoggedEvent.seq))),
                    func.max(LoggedEvent.seq),
                    func.min(LoggedEvent.seq),
                ).group_by(LoggedEvent.channel)
            )
        ).all()
    removed = 0
    for channel, first_kept, last, first in bounds:
        # Events committed after the read above have larger seqs than `last`, so they stay.
        through = last if first_kept is None else first_kept - 1
        if through < first:
            continue
        async with transaction(sessions) as session:
            result = await session.execute(
                delete(LoggedEvent).where(
                    LoggedEvent.channel == channel,
                    LoggedEvent.seq <= through,
                    # Re-checked here: the row may have changed since the read.
                    LoggedEvent.occurred_at < cutoff,
                    LoggedEvent.delivered_at.is_not(None),
                )
            )
            await session.execute(
                update(ChannelHead)
                .where(ChannelHead.channel == channel, ChannelHead.pruned_seq < through)
                .values(pruned_seq=through)
            )
        removed += int(getattr(result, "rowcount", 0) or 0)
    return removed
