"""Live usage per workspace, read from what the Pusher webhook receiver stored."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from waxos.usage.recorder import LiveSnapshot
from waxos.webhooks.usage import channel_subscribers, workspace_live_counts


async def live_snapshot(session: AsyncSession) -> LiveSnapshot:
    """Connections, subscriptions and presence members per workspace, and subscribers per channel."""
    return LiveSnapshot(await workspace_live_counts(session), await channel_subscribers(session))
