"""`emit`: the one way a feature publishes an event, by appending it to the event log (decision D2).

`emit(session, channel, event)` appends the event to the log inside the caller's transaction, allocating
the channel's next `seq`. If the transaction rolls back, the event and its `seq` vanish with it; once it
commits, the relay is woken and delivers it. No network call happens on the caller's path.

Why `seq` is gapless and in commit order: it comes from `UPDATE realtime_channels SET head_seq =
head_seq + n`, whose row lock is held until the transaction ends. A second transaction emitting on the same
channel waits for the first to commit (and gets the next number) or roll back (and gets the same number).
So a reader never sees seq N+1 committed before seq N. The price is that lock: call `emit` as the last
statement of your transaction, so other writers to that channel wait as little as possible.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import cast

from sqlalchemy import Executable, Table, event, insert, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from waxos.channels.names import validate_socket_id, waxos_channel
from waxos.db.base import utcnow
from waxos.events import wakeup
from waxos.events.append import PLACEHOLDER_SEQ, Draft, append, with_seq
from waxos.events.catalogue import CATALOGUE, Event, UnknownEvent
from waxos.events.envelope import Envelope, check_size, new_event_id
from waxos.events.tables import SOCKET_ID_LENGTH, ChannelHead, LoggedEvent
from waxos.pusher_protocol.names import ChannelKind, InvalidName

MAX_EVENTS_PER_EMIT = 10_000
_PENDING = "waxos.events.pending"
_events = cast(Table, LoggedEvent.__table__)
_INSERT_EVENTS = insert(_events)
_NOTIFY = text("SELECT pg_notify(:channel, '')")


class ChannelRefused(ValueError):
    """A channel sequenced events may not travel on."""


def validate_excluded_socket(socket_id: str) -> str:
    """`socket_id` if it can be logged as the connection to leave out of live delivery, else `InvalidName`."""
    if len(socket_id) > SOCKET_ID_LENGTH:
        raise InvalidName("socket id", f"at most {SOCKET_ID_LENGTH} characters")
    return validate_socket_id(socket_id)


async def emit(
    session: AsyncSession, channel: str, event: Event, *, socket_id: str | None = None
) -> Envelope:
    """Log `event` on `channel` in the session's transaction and return its envelope (with `seq`).

    `socket_id` names the pusher-js connection whose request caused the event (`X-Socket-ID`): Pusher does
    not send it live to that connection, which has the change already; catch-up still serves it.

    Raises `UnknownEvent` for an event that is not in the catalogue, `EventTooLarge` if the envelope would
    exceed Pusher's limit, `ChannelRefused` for a public channel, `InvalidName` for a malformed channel or
    socket id; nothing is written then.
    """
    (envelope,) = await emit_many(session, channel, (event,), socket_id=socket_id)
    return envelope


async def emit_many(
    session: AsyncSession, channel: str, events: Sequence[Event], *, socket_id: str | None = None
) -> list[Envelope]:
    """Log several events on one channel, in order, with consecutive `seq`s, in one round trip."""
    if not events:
        return []
    if len(events) > MAX_EVENTS_PER_EMIT:
        raise ValueError(f"at most {MAX_EVENTS_PER_EMIT} events per call")
    if socket_id is not None:
        validate_excluded_socket(socket_id)
    for item in events:
        _check_catalogued(item)
    parsed = waxos_channel(channel)
    if parsed.kind is ChannelKind.PUBLIC:
        # Catch-up serves only channels the policy authorizes, and public ones are anyone's (D1).
        raise ChannelRefused(f"{channel}: sequenced events travel on private or presence channels only")
    occurred_at = utcnow()
    envelopes = [
        Envelope(
            id=new_event_id(),
            type=item.type,
            channel=channel,
            seq=PLACEHOLDER_SEQ,
            occurred_at=occurred_at,
            workspace_id=parsed.workspace_id,
            data=item.data(),
        )
        for item in events
    ]
    # Encoded once, with the largest seq the channel could reach: that is the size checked (before taking
    # the channel's lock), and the real seq is spliced into the same text once it is known.
    drafts = [Draft(envelope.id, envelope.type, envelope.encode()) for envelope in envelopes]
    for draft in drafts:
        check_size(parsed.channel, draft.payload)
    head = await append(session, channel, parsed.workspace_id, occurred_at, drafts, socket_id)
    _ring_after_commit(session)
    first = head - len(drafts) + 1
    return [envelope.model_copy(update={"seq": first + n}) for n, envelope in enumerate(envelopes)]


async def emit_each(session: AsyncSession, channels: Sequence[str], event: Event) -> int:
    """Log `event` once on each of `channels`, each with its own next `seq`, in two statements.

    For fan-outs (an announcement to every workspace): one head upsert for all the channels, which locks
    their head rows in name order (so concurrent fan-outs queue instead of deadlocking), and one insert.
    Returns how many were logged; refuses (nothing written) as `emit` does.
    """
    names = sorted(set(channels))
    if not names:
        return 0
    if len(names) > MAX_EVENTS_PER_EMIT:
        raise ValueError(f"at most {MAX_EVENTS_PER_EMIT} channels per call")
    _check_catalogued(event)
    occurred_at = utcnow()
    data = event.data()
    encoded = []
    for channel in names:
        parsed = waxos_channel(channel)
        if parsed.kind is ChannelKind.PUBLIC:
            raise ChannelRefused(f"{channel}: sequenced events travel on private or presence channels only")
        draft = Envelope(
            id=new_event_id(),
            type=event.type,
            channel=channel,
            seq=PLACEHOLDER_SEQ,
            occurred_at=occurred_at,
            workspace_id=parsed.workspace_id,
            data=data,
        )
        text_ = draft.encode()
        check_size(parsed.channel, text_)
        encoded.append((draft, text_))
    dialect = session.get_bind().dialect.name
    rows = await session.execute(
        _heads_statement(dialect), [{"channel": name, "head_seq": 1, "pruned_seq": 0} for name in names]
    )
    heads: dict[str, int] = dict(rows.all())
    await session.execute(
        _INSERT_EVENTS,
        [
            {
                "channel": draft.channel,
                "seq": heads[draft.channel],
                "id": draft.id,
                "type": draft.type,
                "workspace_id": draft.workspace_id,
                "occurred_at": occurred_at,
                "payload": with_seq(text_, heads[draft.channel]),
                "socket_id": None,
            }
            for draft, text_ in encoded
        ],
    )
    if dialect == "postgresql":
        # emit's own statement carries its NOTIFY; this fan-out's two statements need a third.
        await session.execute(_NOTIFY, {"channel": wakeup.NOTIFY_CHANNEL})
    _ring_after_commit(session)
    return len(names)


@cache
def _heads_statement(dialect: str) -> Executable:
    """The head upsert of `emit_each`, run with one parameter set per channel (SQLAlchemy sends them as
    multi-row statements with RETURNING); Core, not ORM: compiling a thousand-row VALUES statement per
    batch and the ORM's bulk path took 80% of a fan-out (`bench/announcements.py`)."""
    heads = cast(Table, ChannelHead.__table__)
    upsert = (postgresql if dialect == "postgresql" else sqlite).insert(heads)
    upserted = upsert.on_conflict_do_update(
        index_elements=[heads.c.channel], set_={"head_seq": heads.c.head_seq + upsert.excluded.head_seq}
    )
    return cast(Executable, upserted.returning(heads.c.channel, heads.c.head_seq))


def _check_catalogued(item: Event) -> None:
    # The class and its `type` must both be the catalogue's: clients and catch-up rely on it.
    if CATALOGUE.get(item.type) is not type(item):
        raise UnknownEvent(
            f"{type(item).__name__} ({item.type!r}) is not a catalogued event; "
            f"known: {', '.join(sorted(CATALOGUE))}"
        )


def _ring_after_commit(session: AsyncSession) -> None:
    """Wake this process's relays once this transaction commits; roll back and nobody is woken.

    Relays in other processes hear PostgreSQL's NOTIFY, which the logging statements send. The hooks
    below listen on every `Session` once, at import: every request has a new session, and listening on
    each one cost an emitting request ~2% of its CPU (registering two listeners, unregistering them when
    the session is collected).
    """
    session.sync_session.info[_PENDING] = True


@event.listens_for(Session, "after_commit")
def _after_commit(sync_session: Session) -> None:
    if sync_session.info.pop(_PENDING, False):
        wakeup.ring(sync_session.get_bind().engine.url)


@event.listens_for(Session, "after_rollback")
def _after_rollback(sync_session: Session) -> None:
    sync_session.info.pop(_PENDING, None)
