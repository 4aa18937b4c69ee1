"""Catch-up: read a channel's logged events after a position, complete or not at all (decision D3).

A page is always the contiguous run `after + 1, after + 2, ...`; when the log no longer holds `after + 1`,
or `after` is beyond the channel's head (say, after a database restore), the answer is `ResyncRequired`,
never a partial page the client could mistake for the whole story.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from waxos.events.tables import ChannelHead, LoggedEvent

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


class ResyncRequired(Exception):
    """The position cannot be caught up from; the client must reload its state and start from `head`."""

    def __init__(self, reason: str, head: int) -> None:
        super().__init__(reason)
        self.reason = reason
        self.head = head


@dataclass(frozen=True, slots=True)
class CatchUpPage:
    """Events after a position, in `seq` order, as the encoded envelopes subscribers received."""

    channel: str
    events: tuple[str, ...]
    next_after: int
    head: int

    def encode(self) -> str:
        """The response body, splicing the stored envelopes in without decoding them."""
        head = json.dumps({"channel": self.channel}, ensure_ascii=False)[:-1]
        return (
            f'{head},"events":[{",".join(self.events)}],"next_after":{self.next_after},"head":{self.head}}}'
        )


async def read_after(
    session: AsyncSession, channel: str, after: int, limit: int = DEFAULT_LIMIT
) -> CatchUpPage:
    """Up to `limit` events of `channel` with `seq > after`; `ResyncRequired` when that is impossible."""
    if not 1 <= limit <= MAX_LIMIT or after < 0:
        raise ValueError(f"after must be >= 0 and limit within 1..{MAX_LIMIT}")
    # The head first, then only events up to it. Emit raises the head and inserts the event in one
    # transaction, so every event up to a committed head is visible to the next statement; reading the
    # events first let a commit between the two reads look like a hole (a spurious resync_required).
    bounds = (
        await session.execute(
            select(ChannelHead.head_seq, ChannelHead.pruned_seq).where(ChannelHead.channel == channel)
        )
    ).one_or_none()
    head, pruned = (bounds.head_seq, bounds.pruned_seq) if bounds is not None else (0, 0)
    if after < pruned:
        raise ResyncRequired("too_old", head)
    if after > head:
        raise ResyncRequired("ahead_of_head", head)
    rows = (
        await session.execute(
            select(LoggedEvent.seq, LoggedEvent.payload)
            .where(LoggedEvent.channel == channel, LoggedEvent.seq > after, LoggedEvent.seq <= head)
            .order_by(LoggedEvent.seq)
            .limit(limit)
        )
    ).all()
    seqs = [row.seq for row in rows]
    if seqs != list(range(after + 1, min(head, after + limit) + 1)):
        # Every event up to the head is committed, so a missing one was pruned since the head was read.
        raise ResyncRequired("too_old", head)
    return CatchUpPage(channel, tuple(row.payload for row in rows), seqs[-1] if seqs else after, head)
