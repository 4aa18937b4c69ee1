"""Applying verified deliveries: presence, occupancy and usage rows, and `user.online` on each change.

Deliveries are applied in batches (see `receiver.py`), all of a batch in one transaction. Each row kept
remembers the `time_ms` of the delivery that last changed it, and an event older than that changes
nothing: Pusher retries a failed delivery for minutes, so a retry can arrive after newer news. A delivery
already applied (its signature is remembered while it could still be accepted) is a duplicate: answered
2xx, nothing changed, so Pusher stops retrying it.

Pusher sends `member_added` for a user's first connection to a presence channel and `member_removed`
for the last, so a user on several tabs is one member; a user in several workspaces has a row, and a
`user.online`, per workspace.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any, cast

from sqlalchemy import Executable, Table, delete, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from waxos.auth.models import Membership, Workspace
from waxos.channels.names import staff_online_channel, waxos_channel
from waxos.events import UserOnline
from waxos.inbox.outbox import Outbox
from waxos.pusher_protocol.names import ChannelKind
from waxos.webhooks.tables import ChannelOccupancy, StaffPresence, WebhookDelivery
from waxos.webhooks.verify import MAX_SKEW_MS, Delivery

logger = logging.getLogger(__name__)

# A delivery's signature is remembered a little longer than `verify` would accept it again.
REMEMBER_DELIVERIES = timedelta(milliseconds=2 * MAX_SKEW_MS)
_USER_ID_DIGITS = 18


class Verdict(enum.StrEnum):
    """What became of a verified delivery."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"


@dataclass
class _State:
    online: bool
    changed_ms: int
    dirty: bool = False


@dataclass
class _Occupancy:
    workspace_id: int
    occupied: bool
    subscription_count: int | None
    changed_ms: int
    dirty: bool = False


@cache
def _upsert(dialect: str, model: type[Any], keys: tuple[str, ...], columns: tuple[str, ...]) -> Executable:
    """INSERT … ON CONFLICT (keys) DO UPDATE SET columns, built once per dialect and table."""
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(cast(Table, model.__table__))
    return cast(
        Executable,
        insert.on_conflict_do_update(
            index_elements=list(keys), set_={column: insert.excluded[column] for column in columns}
        ),
    )


@cache
def _remember(dialect: str) -> Executable:
    insert = (postgresql if dialect == "postgresql" else sqlite).insert(
        cast(Table, WebhookDelivery.__table__)
    )
    statement = insert.on_conflict_do_nothing(index_elements=["signature"]).returning(
        insert.table.c.signature
    )
    return cast(Executable, statement)


async def apply_deliveries(
    session: AsyncSession, deliveries: Sequence[Delivery], now: datetime
) -> list[Verdict]:
    """Apply the deliveries in order, in the session's transaction; a verdict for each."""
    dialect = session.get_bind().dialect.name
    # The same delivery twice in one batch (a retry that overtook the original's answer) counts once.
    first: dict[str, Delivery] = {}
    for delivery in deliveries:
        first.setdefault(delivery.signature, delivery)
    # The insert decides what is new: a signature already remembered (by this or another process,
    # whose transaction it waits for on PostgreSQL) is not inserted, and its delivery is a duplicate.
    inserted = await session.scalars(
        _remember(dialect),
        [{"signature": signature, "received_at": now} for signature in sorted(first)],
    )
    new = set(inserted)
    fresh = [delivery for signature, delivery in first.items() if signature in new]
    applied: set[int] = {id(delivery) for delivery in fresh}
    verdicts = [Verdict.ACCEPTED if id(d) in applied else Verdict.DUPLICATE for d in deliveries]
    if not fresh:
        return verdicts
    outbox = Outbox()
    await _presence(session, dialect, fresh, now, outbox)
    await _occupancy(session, dialect, fresh, now)
    await outbox.emit(session)
    return verdicts


async def forget_old_deliveries(session: AsyncSession, now: datetime) -> None:
    """Drop remembered signatures old enough that `verify` refuses them as stale anyway."""
    await session.execute(
        delete(WebhookDelivery).where(WebhookDelivery.received_at < now - REMEMBER_DELIVERIES)
    )


def _events(deliveries: Iterable[Delivery], *names: str) -> list[tuple[int, dict[str, Any]]]:
    return [(d.time_ms, e) for d in deliveries for e in d.events if e.get("name") in names]


def _presence_key(event: dict[str, Any]) -> tuple[int, int] | None:
    """(workspace id, user id) of a member event on one of our presence channels, else None."""
    channel, user_id = event.get("channel"), event.get("user_id")
    if not isinstance(channel, str) or not isinstance(user_id, str):
        return None
    if not user_id.isascii() or not user_id.isdigit() or len(user_id) > _USER_ID_DIGITS or user_id[0] == "0":
        return None
    try:
        parsed = waxos_channel(channel)
    except ValueError:
        return None
    if parsed.kind is not ChannelKind.PRESENCE or parsed.workspace_id is None:
        return None
    return parsed.workspace_id, int(user_id)


async def _presence(
    session: AsyncSession, dialect: str, deliveries: Sequence[Delivery], now: datetime, outbox: Outbox
) -> None:
    events = [
        (time_ms, key, event["name"] == "member_added")
        for time_ms, event in _events(deliveries, "member_added", "member_removed")
        if (key := _presence_key(event)) is not None
    ]
    if not events:
        return
    keys = sorted({key for _, key, _ in events})
    # Locked in key order, so concurrent batches touching the same members queue instead of deadlocking.
    rows = await session.execute(
        select(
            StaffPresence.workspace_id, StaffPresence.user_id, StaffPresence.online, StaffPresence.changed_ms
        )
        .where(tuple_(StaffPresence.workspace_id, StaffPresence.user_id).in_(keys))
        .order_by(StaffPresence.workspace_id, StaffPresence.user_id)
        .with_for_update()
    )
    states = {(ws, user): _State(online, changed) for ws, user, online, changed in rows}
    members = set(
        await session.execute(
            select(Membership.workspace_id, Membership.user_id).where(
                tuple_(Membership.workspace_id, Membership.user_id).in_(keys)
            )
        )
    )
    for time_ms, key, online in events:
        state = states.get(key)
        if state is None:
            if key not in members:
                continue  # not (or no longer) staff of that workspace: nothing to record
            state = states[key] = _State(online=False, changed_ms=time_ms)
        elif time_ms < state.changed_ms:
            continue  # older than what we know: a late retry
        if online and key not in members:
            continue
        state.changed_ms = time_ms
        state.dirty = True
        if state.online != online:
            state.online = online
            workspace_id, user_id = key
            outbox.add(staff_online_channel(workspace_id), UserOnline(user_id=user_id, online=online))
    changed = [
        {
            "workspace_id": ws,
            "user_id": user,
            "online": s.online,
            "changed_ms": s.changed_ms,
            "changed_at": now,
        }
        for (ws, user), s in sorted(states.items())
        if s.dirty
    ]
    if changed:
        statement = _upsert(
            dialect, StaffPresence, ("workspace_id", "user_id"), ("online", "changed_ms", "changed_at")
        )
        await session.execute(statement, changed)


def _occupancy_change(event: dict[str, Any]) -> tuple[str, int, bool, int | None] | None:
    """(channel, workspace id, occupied, subscription count) an occupancy event says, or None."""
    channel = event.get("channel")
    if not isinstance(channel, str):
        return None
    try:
        parsed = waxos_channel(channel)
    except ValueError:
        return None
    if parsed.workspace_id is None:
        return None
    name = event.get("name")
    if name == "subscription_count":
        count = event.get("subscription_count")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            return None
        return channel, parsed.workspace_id, count > 0, count
    if name == "channel_occupied":
        return channel, parsed.workspace_id, True, None
    return channel, parsed.workspace_id, False, 0


async def _occupancy(
    session: AsyncSession, dialect: str, deliveries: Sequence[Delivery], now: datetime
) -> None:
    events = [
        (time_ms, change)
        for time_ms, event in _events(deliveries, "channel_occupied", "channel_vacated", "subscription_count")
        if (change := _occupancy_change(event)) is not None
    ]
    if not events:
        return
    channels = sorted({change[0] for _, change in events})
    rows = await session.execute(
        select(
            ChannelOccupancy.channel,
            ChannelOccupancy.workspace_id,
            ChannelOccupancy.occupied,
            ChannelOccupancy.subscription_count,
            ChannelOccupancy.changed_ms,
        )
        .where(ChannelOccupancy.channel.in_(channels))
        .order_by(ChannelOccupancy.channel)
        .with_for_update()
    )
    states = {row[0]: _Occupancy(*row[1:]) for row in rows}
    workspaces = set(
        await session.scalars(
            select(Workspace.id).where(Workspace.id.in_({change[1] for _, change in events}))
        )
    )
    for time_ms, (channel, workspace_id, occupied, count) in events:
        state = states.get(channel)
        if state is None:
            if workspace_id not in workspaces:
                continue  # a workspace deleted since: nothing to count
            state = states[channel] = _Occupancy(workspace_id, occupied, count, time_ms)
        elif time_ms < state.changed_ms:
            continue
        state.occupied = occupied
        # `channel_occupied` says nothing about how many: keep a count we have, else unknown (null).
        if count is not None or not occupied:
            state.subscription_count = count
        state.changed_ms = time_ms
        state.dirty = True
    changed = [
        {
            "channel": channel,
            "workspace_id": s.workspace_id,
            "occupied": s.occupied,
            "subscription_count": s.subscription_count,
            "changed_ms": s.changed_ms,
            "changed_at": now,
        }
        for channel, s in sorted(states.items())
        if s.dirty
    ]
    if changed:
        statement = _upsert(
            dialect,
            ChannelOccupancy,
            ("channel",),
            ("workspace_id", "occupied", "subscription_count", "changed_ms", "changed_at"),
        )
        await session.execute(statement, changed)
