"""Read the active provider and switch it: the database row is the one truth all instances share.

A switch is a compare-and-set on the epoch the switcher last read, so two relays that decide to switch
at the same moment bump the epoch once, and a stale decision changes nothing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from waxos.config import Settings
from waxos.db.base import utcnow
from waxos.providers.tables import STATE_ROW, ProviderStateRow

# A public channel carrying only `provider.changed` notices (an epoch and a provider name, no tenant
# data), so that clients live on the provider being left learn of a switch without waiting for a poll.
NOTICE_CHANNEL = "waxos-provider"
NOTICE_EVENT = "provider.changed"
UNCONFIGURED_REASON = "the secondary was recorded active but is no longer configured"


class Provider(enum.StrEnum):
    """The two provider slots of the settings."""

    PRIMARY = "primary"
    SECONDARY = "secondary"

    @property
    def other(self) -> Provider:
        """The provider this one fails over to."""
        return Provider.SECONDARY if self is Provider.PRIMARY else Provider.PRIMARY


class ChangedBy(enum.StrEnum):
    """Who made the active provider what it is."""

    INITIAL = "initial"
    AUTO = "auto"
    MANUAL = "manual"


@dataclass(frozen=True, slots=True)
class ActiveProvider:
    """The provider events go to, the epoch clients compare, and the last change's who, when and why."""

    provider: Provider
    epoch: int
    changed_at: datetime
    changed_by: ChangedBy
    reason: str
    # The row names the secondary, which these settings do not configure: `provider` reads as the primary,
    # and a relay records that with a new epoch (see `failover.decide`).
    unconfigured_secondary: bool = False


class SecondaryNotConfigured(Exception):
    """A switch to the secondary was asked for, but no PUSHER_SECONDARY_* settings are set."""


async def read_active(session: AsyncSession, settings: Settings) -> ActiveProvider:
    """The active provider as recorded; the primary when the recorded secondary is no longer configured."""
    row = await session.get(ProviderStateRow, STATE_ROW, populate_existing=True)
    if row is None:  # only before the migration that creates the row: the primary, first epoch
        return ActiveProvider(Provider.PRIMARY, 1, utcnow(), ChangedBy.INITIAL, "initial")
    provider = Provider(row.active)
    reason = row.reason
    unconfigured = provider is Provider.SECONDARY and not settings.secondary_configured
    if unconfigured:
        # The settings lost the secondary (a redeploy): nothing can reach it, so the primary serves, until
        # a relay with these settings switches to it under a new epoch (clients reconnect on a new one).
        provider, reason = Provider.PRIMARY, UNCONFIGURED_REASON
    return ActiveProvider(
        provider, row.epoch, row.changed_at, ChangedBy(row.changed_by), reason, unconfigured
    )


async def switch(
    session: AsyncSession,
    settings: Settings,
    to: Provider,
    *,
    seen_epoch: int,
    by: ChangedBy,
    reason: str,
) -> ActiveProvider | None:
    """Make `to` active with the next epoch, if the epoch is still `seen_epoch`; None when it moved on."""
    if to is Provider.SECONDARY and not settings.secondary_configured:
        raise SecondaryNotConfigured("set the PUSHER_SECONDARY_* variables first")
    now = utcnow()
    result = await session.execute(
        update(ProviderStateRow)
        .where(ProviderStateRow.id == STATE_ROW, ProviderStateRow.epoch == seen_epoch)
        .values(active=to.value, epoch=seen_epoch + 1, changed_at=now, changed_by=by.value, reason=reason)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return None
    return ActiveProvider(to, seen_epoch + 1, now, by, reason)


async def current_epoch(session: AsyncSession) -> int:
    """Just the epoch (what every catch-up answer carries)."""
    epoch = await session.scalar(select(ProviderStateRow.epoch).where(ProviderStateRow.id == STATE_ROW))
    return 1 if epoch is None else int(epoch)


async def held_epoch(session: AsyncSession) -> int:
    """The epoch, held: no switch commits before this transaction ends (what the relay marks under).

    PostgreSQL: a share lock on the row until commit, which a switch's update waits for (relays marking
    at once do not wait for each other). SQLite: a write transaction already excludes every other writer.
    """
    epoch = await session.scalar(_HELD_EPOCH)
    return 1 if epoch is None else int(epoch)


# Built once: the relay reads it in every marking transaction.
_HELD_EPOCH = (
    select(ProviderStateRow.epoch).where(ProviderStateRow.id == STATE_ROW).with_for_update(read=True)
)
