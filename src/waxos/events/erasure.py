"""Erasing a workspace's event log and its channel heads, when the workspace is deleted.

A workspace's channels are named after its id; were the id ever given to another workspace, the log
left behind would be the newcomer's history (ids are never reused, see `waxos.db.base.NEVER_REUSE_IDS`,
and the log goes with its workspace all the same). Events record their workspace; heads do not, so they
are found by name: every name `waxos.channels.names.waxos_channel` attributes to it. Relay leases name
channels too, but expire within seconds and hold nothing else.
"""

from __future__ import annotations

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from waxos.channels.names import waxos_channel
from waxos.events.tables import ChannelHead, LoggedEvent


async def erase_workspace_log(session: AsyncSession, workspace_id: int) -> int:
    """Delete the workspace's events and channel heads; return how many events."""
    # Every convention puts `workspace-{id}` in the name; the pattern only narrows, the parse decides.
    candidates = await session.scalars(
        select(ChannelHead.channel).where(ChannelHead.channel.contains(f"workspace-{workspace_id}"))
    )
    channels = [name for name in candidates if waxos_channel(name).workspace_id == workspace_id]
    events = await session.execute(
        delete(LoggedEvent).where(
            or_(LoggedEvent.workspace_id == workspace_id, LoggedEvent.channel.in_(channels))
        )
    )
    await session.execute(delete(ChannelHead).where(ChannelHead.channel.in_(channels)))
    return int(getattr(events, "rowcount", 0) or 0)
