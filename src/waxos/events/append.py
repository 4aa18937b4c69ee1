"""Appending to the event log in one round trip: the head's seq and the events' rows together.

Why one: `emit` runs inside a user's request, and its cost was the driver's round trips, not the SQL (the
statements take ~0.2 ms; the trips between the event loop and the database took the rest, see
docs/benchmarks.md). So each database gets what needs the fewest trips while keeping the guarantee of
`writer.py` (gapless, commit-ordered `seq`, atomic with the caller's transaction):

- PostgreSQL: one statement. A data-modifying CTE upserts the channel's head (taking its row lock until
  commit, which is what orders writers), inserts the events with their seq computed from the new head and
  spliced into each stored envelope, and calls `pg_notify` (sent only at commit; PostgreSQL drops repeats
  of one notification within a transaction).
- SQLite: one hop to the driver's thread. aiosqlite runs each cursor call as a hop (seven for the two
  statements); here one function runs both statements on the thread that owns the connection, inside the
  transaction the session already began. `aiosqlite.Connection._execute` is the only way to run a function
  there; `tests/events/test_event_log.py` fails if an aiosqlite release drops it.

Each stored envelope was encoded with a placeholder seq, the largest a channel could reach, so its size
was checked before the lock; the placeholder's first occurrence is the envelope's own `seq` (the fields
before it, `id`, `type` and `channel`, cannot contain a quote).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Table, text
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession

from waxos.events import wakeup
from waxos.events.tables import LoggedEvent

PLACEHOLDER_SEQ = 2**62
PLACEHOLDER_FIELD = f'"seq":{PLACEHOLDER_SEQ},'

_events = cast(Table, LoggedEvent.__table__)

_POSTGRES = text(
    """
    WITH head AS (
        INSERT INTO realtime_channels AS h (channel, head_seq, pruned_seq)
        VALUES (:channel, CAST(:count AS bigint), 0)
        ON CONFLICT (channel) DO UPDATE SET head_seq = h.head_seq + EXCLUDED.head_seq
        RETURNING h.head_seq
    ), logged AS (
        INSERT INTO realtime_events (channel, seq, id, type, workspace_id, occurred_at, payload, socket_id)
        SELECT :channel, head.head_seq - CAST(:count AS bigint) + e.n, e.id, e.type,
               CAST(:workspace_id AS bigint), CAST(:occurred_at AS timestamptz),
               regexp_replace(
                   e.payload, :placeholder,
                   '"seq":' || (head.head_seq - CAST(:count AS bigint) + e.n) || ','
               ),
               CAST(:socket_id AS varchar)
        FROM head, unnest(CAST(:ids AS varchar[]), CAST(:types AS varchar[]), CAST(:payloads AS text[]))
             WITH ORDINALITY AS e(id, type, payload, n)
    )
    SELECT head.head_seq, pg_notify(:notify, '') FROM head
    """
)

_SQLITE_HEAD = (
    "INSERT INTO realtime_channels (channel, head_seq, pruned_seq) VALUES (?, ?, 0) "
    "ON CONFLICT (channel) DO UPDATE SET head_seq = head_seq + excluded.head_seq RETURNING head_seq"
)
_SQLITE_EVENTS = (
    "INSERT INTO realtime_events "
    "(channel, seq, id, type, workspace_id, occurred_at, payload, delivered_at, socket_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)"
)


@dataclass(frozen=True, slots=True)
class Draft:
    """One event to log: its id, type and envelope encoded with the placeholder seq."""

    id: str
    type: str
    payload: str


async def append(
    session: AsyncSession,
    channel: str,
    workspace_id: int | None,
    occurred_at: datetime,
    drafts: Sequence[Draft],
    socket_id: str | None = None,
) -> int:
    """Reserve seqs for `drafts` on `channel` and log them, in one round trip; return the new head seq.

    `socket_id` is stored on every row: the connection Pusher leaves out of live delivery.
    """
    connection = await session.connection()
    if connection.dialect.name == "postgresql":
        result = await connection.execute(
            _POSTGRES,
            {
                "channel": channel,
                "count": len(drafts),
                "workspace_id": workspace_id,
                "occurred_at": occurred_at,
                "placeholder": PLACEHOLDER_FIELD,
                "ids": [draft.id for draft in drafts],
                "types": [draft.type for draft in drafts],
                "payloads": [draft.payload for draft in drafts],
                "notify": wakeup.NOTIFY_CHANNEL,
                "socket_id": socket_id,
            },
        )
        return int(result.scalar_one())
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection  # an aiosqlite.Connection
    stored_at = _sqlite_timestamp(connection.dialect)(occurred_at)
    # One hop: the function runs on aiosqlite's thread, on the connection the session's transaction uses.
    head: int = await driver._execute(
        _append_sqlite, driver._conn, channel, workspace_id, stored_at, drafts, socket_id
    )
    return head


def with_seq(encoded: str, seq: int) -> str:
    """`encoded` (an envelope with the placeholder seq) with `seq` instead: equal to encoding it anew."""
    before, found, after = encoded.partition(PLACEHOLDER_FIELD)
    if not found:
        raise RuntimeError("an envelope without the placeholder seq")
    return f'{before}"seq":{seq},{after}'


def _append_sqlite(
    conn: sqlite3.Connection,
    channel: str,
    workspace_id: int | None,
    stored_at: Any,
    drafts: Sequence[Draft],
    socket_id: str | None,
) -> int:
    """Both statements, on the driver's own thread (SQLite has no data-modifying CTE)."""
    count = len(drafts)
    row = conn.execute(_SQLITE_HEAD, (channel, count)).fetchone()
    head = int(row[0])
    first = head - count + 1
    conn.executemany(
        _SQLITE_EVENTS,
        [
            (
                channel,
                first + n,
                d.id,
                d.type,
                workspace_id,
                stored_at,
                with_seq(d.payload, first + n),
                socket_id,
            )
            for n, d in enumerate(drafts)
        ],
    )
    return head


@cache
def _sqlite_timestamp(dialect: Dialect) -> Callable[[datetime], Any]:
    """How SQLAlchemy stores `occurred_at` on this dialect, so rows written here read back the same."""
    processor = _events.c.occurred_at.type.bind_processor(dialect)
    if processor is None:
        raise RuntimeError(f"no bind processor for occurred_at on {dialect.name}")
    return processor
