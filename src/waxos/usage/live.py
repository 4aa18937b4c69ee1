"""Live usage per workspace, read from what the Pusher webhook receiver stored."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from waxos.usage.recorder import LiveSnapshot


async def live_snapshot(session: AsyncSession) -> LiveSnapshot:
    """Connections, subscriptions and presence members per workspace, and subscribers per channel."""
    del session  # the webhook receiver's tables land with the inbox (issue 10)
    return LiveSnapshot({}, {})
