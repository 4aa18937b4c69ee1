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
# One multi-channel read serves at most this many channels and this many events in all.
MAX_CHANNELS = 100


class ResyncRequired(Exception):
    """The position cannot be caught up from; the client must reload its state and start from `head`.

    `epoch` is the active provider's epoch, when the answer should carry it (every catch-up answer does).
    """

    def __init__(self, reason: str, head: int, epoch: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.head = head
        self.epoch = epoch


@dataclass(frozen=True, slots=True)
class CatchUpPage:
    """Events after a position, in `seq` order, as the encoded envelopes subscribers received."""

    channel: str
    events: tuple[str, ...]
    next_after: int
    head: int

    def encode(self, **extra: object) -> str:
        """The response body, splicing the stored envelopes in without decoding them; `extra` fields last."""
        head = json.dumps({"channel": self.channel}, ensure_ascii=False)[:-1]
        tail = json.dumps(extra, ensure_ascii=False)[1:-1]
        return (
            f'{head},"events":[{",".join(self.events)}],"next_after":{self.next_after},"head":{self.head}'
            f"{',' if tail else ''}{tail}}}"
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
    page = await _page(session, channel, after, head, limit)
    if isinstance(page, ResyncRequired):
        raise page
    return page


async def read_many(
    session: AsyncSession, positions: dict[str, int], limit: int = DEFAULT_LIMIT
) -> dict[str, CatchUpPage | ResyncRequired]:
    """`read_after` for several channels at once: each a page (up to `limit`) or `ResyncRequired`.

    The heads of all channels come from one statement, so a poll of channels with nothing new costs one
    query. At most `MAX_LIMIT` events are returned in all: once that budget is spent, the remaining
    channels get an empty page with their head, which tells the client to ask again.
    """
    if not 1 <= limit <= MAX_LIMIT or not 1 <= len(positions) <= MAX_CHANNELS:
        raise ValueError(f"limit must be within 1..{MAX_LIMIT}, channels within 1..{MAX_CHANNELS}")
    if any(after < 0 for after in positions.values()):
        raise ValueError("after must be >= 0")
    # Heads first, then events up to them: the same order, for the same reason, as `read_after`.
    rows = await session.execute(
        select(ChannelHead.channel, ChannelHead.head_seq, ChannelHead.pruned_seq).where(
            ChannelHead.channel.in_(list(positions))
        )
    )
    bounds = {row.channel: (row.head_seq, row.pruned_seq) for row in rows}
    budget = MAX_LIMIT
    answers: dict[str, CatchUpPage | ResyncRequired] = {}
    for channel, after in positions.items():
        head, pruned = bounds.get(channel, (0, 0))
        if after < pruned:
            answers[channel] = ResyncRequired("too_old", head)
        elif after > head:
            answers[channel] = ResyncRequired("ahead_of_head", head)
        elif after == head or budget == 0:
            answers[channel] = CatchUpPage(channel, (), after, head)
        else:
            answers[channel] = await _page(session, channel, after, head, min(limit, budget))
            if isinstance(page := answers[channel], CatchUpPage):
                budget -= len(page.events)
    return answers


async def _page(
    session: AsyncSession, channel: str, after: int, head: int, limit: int
) -> CatchUpPage | ResyncRequired:
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
        return ResyncRequired("too_old", head)
    return CatchUpPage(channel, tuple(row.payload for row in rows), seqs[-1] if seqs else after, head)
