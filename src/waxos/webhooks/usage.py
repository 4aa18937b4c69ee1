"""Live usage from what webhooks told us: connections, subscriptions and presence members per workspace.

Pusher reports no connection count per workspace, so it is estimated: every staff client follows its
workspace's channels, so the busiest channel's subscriber count (or the presence channel's member count,
if larger) is the number of connections following the workspace. A channel known to be occupied but
whose count never arrived (`subscription_count` webhooks are an app setting) counts one subscriber.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from waxos.pusher_protocol.names import ChannelKind, parse_channel
from waxos.usage.rollup import LiveCounts
from waxos.webhooks.tables import ChannelOccupancy, StaffPresence


async def presence_members(session: AsyncSession) -> dict[int, int]:
    """Staff online per workspace (users, however many connections each has)."""
    rows = await session.execute(
        select(StaffPresence.workspace_id, func.count())
        .where(StaffPresence.online.is_(True))
        .group_by(StaffPresence.workspace_id)
    )
    return {workspace_id: int(count) for workspace_id, count in rows}


async def _occupied(session: AsyncSession) -> list[tuple[str, int, int]]:
    """(channel, workspace id, subscribers) of each occupied workspace channel."""
    online = await presence_members(session)
    rows = await session.execute(
        select(
            ChannelOccupancy.channel, ChannelOccupancy.workspace_id, ChannelOccupancy.subscription_count
        ).where(ChannelOccupancy.occupied.is_(True))
    )
    occupied = []
    for channel, workspace_id, count in rows:
        if parse_channel(channel).kind is ChannelKind.PRESENCE:
            # Pusher sends no subscription_count for presence channels: their members are the measure.
            occupied.append((channel, workspace_id, max(1, online.get(workspace_id, 0))))
        else:
            occupied.append((channel, workspace_id, count or 1))
    return occupied


async def channel_subscribers(session: AsyncSession) -> dict[str, int]:
    """Subscribers of each occupied workspace channel (a presence channel: its members)."""
    return {channel: count for channel, _, count in await _occupied(session)}


async def workspace_live_counts(session: AsyncSession) -> dict[int, LiveCounts]:
    """Connections (estimated, see the module docstring), subscriptions and presence members per workspace."""
    online = await presence_members(session)
    connections: dict[int, int] = {}
    subscriptions: dict[int, int] = {}
    for _, workspace_id, count in await _occupied(session):
        connections[workspace_id] = max(connections.get(workspace_id, 0), count)
        subscriptions[workspace_id] = subscriptions.get(workspace_id, 0) + count
    return {
        workspace_id: LiveCounts(
            connections=max(connections.get(workspace_id, 0), online.get(workspace_id, 0)),
            subscriptions=subscriptions.get(workspace_id, 0),
            presence_members=online.get(workspace_id, 0),
        )
        for workspace_id in sorted(set(connections) | set(online))
    }
