"""emit(): gapless per-channel seq in commit order, atomic with the caller's transaction, bounded size."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, select

from tests.support.accounts import migrated
from tests.support.events import CHATS, OTHER, emit_messages, log_rows, message
from waxos.db.engine import transaction
from waxos.events import (
    ChannelRefused,
    Event,
    EventTooLarge,
    MessageNew,
    MessageUpdated,
    UnknownEvent,
    emit,
    emit_many,
    wakeup,
)
from waxos.events.tables import ChannelHead
from waxos.pusher_protocol.names import InvalidName


async def test_seq_starts_at_one_and_is_gapless_per_channel(database_url: str) -> None:
    async with migrated(database_url) as (_engine, sessions):
        await emit_messages(sessions, CHATS, 3)
        async with transaction(sessions) as session:
            other = await emit(session, OTHER, message())
            more = await emit(session, CHATS, message())
        rows = await log_rows(sessions)
    assert [(row.channel, row.seq) for row in rows] == [(CHATS, n) for n in range(1, 5)] + [(OTHER, 1)]
    assert (other.seq, more.seq) == (1, 4)


async def test_the_stored_payload_is_the_envelope_subscribers_receive(database_url: str) -> None:
    before = datetime.now(UTC)
    async with migrated(database_url) as (_engine, sessions):
        async with transaction(sessions) as session:
            envelope = await emit(session, CHATS, message(7))
            personal = await emit(session, "private-user-9", message(8))
        user_row, row = sorted(await log_rows(sessions), key=lambda r: r.channel)
    stored = json.loads(row.payload)
    assert stored == json.loads(envelope.encode())
    assert set(stored) == {"id", "type", "channel", "seq", "occurred_at", "workspace_id", "data"}
    assert stored["type"] == "message.new" and stored["channel"] == CHATS and stored["seq"] == 1
    assert stored["workspace_id"] == 1
    assert stored["data"] == {
        "chat_id": 1,
        "message_id": 7,
        "direction": "inbound",
        "sender_type": "contact",
        "sender_id": None,
    }
    assert stored["occurred_at"].endswith("Z")
    assert before <= datetime.fromisoformat(stored["occurred_at"]) <= datetime.now(UTC)
    assert uuid.UUID(stored["id"]).version == 7
    assert json.loads(user_row.payload)["workspace_id"] is None and personal.workspace_id is None


async def test_the_stored_payload_is_byte_for_byte_the_envelope_encoded_with_its_seq(
    database_url: str,
) -> None:
    # emit encodes once, with a placeholder seq for the size check, and splices the real seq in.
    async with migrated(database_url) as (_engine, sessions):
        for _ in range(3):
            async with transaction(sessions) as session:
                await emit(session, OTHER, message(1))
        async with transaction(sessions) as session:
            envelopes = await emit_many(session, CHATS, [message(n) for n in range(1, 13)])
        rows = {(row.channel, row.seq): row for row in await log_rows(sessions)}
    assert [envelope.seq for envelope in envelopes] == list(range(1, 13))
    for envelope in envelopes:
        assert rows[(CHATS, envelope.seq)].payload == envelope.encode()
        assert f'"seq":{envelope.seq},' in envelope.encode()
    assert sorted(seq for channel, seq in rows if channel == OTHER) == [1, 2, 3]


async def test_ids_are_unique_and_sort_in_emission_order(database_url: str) -> None:
    async with migrated(database_url) as (_engine, sessions):
        envelopes = await emit_messages(sessions, CHATS, 200)
    ids = [envelope.id for envelope in envelopes]
    assert len(set(ids)) == 200 and ids == sorted(ids)


async def test_a_rolled_back_change_leaves_no_event_and_no_hole(database_url: str) -> None:
    async with migrated(database_url) as (_engine, sessions):
        await emit_messages(sessions, CHATS, 1)
        with pytest.raises(RuntimeError, match="feature failed"):
            async with transaction(sessions) as session:
                await emit(session, CHATS, message())
                raise RuntimeError("feature failed")
        await emit_messages(sessions, CHATS, 1)
        rows = await log_rows(sessions)
    assert [row.seq for row in rows] == [1, 2]


async def test_a_second_writer_waits_for_the_first_so_seq_follows_commit_order(database_url: str) -> None:
    async with migrated(database_url) as (_engine, sessions):
        first_holds_lock = asyncio.Event()
        release_first = asyncio.Event()

        async def first() -> int:
            async with transaction(sessions) as session:
                envelope = await emit(session, CHATS, message(1))
                first_holds_lock.set()
                await release_first.wait()
                raise_after = envelope.seq
            return raise_after

        async def second() -> int:
            await first_holds_lock.wait()
            return (await emit_messages(sessions, CHATS, 1))[0].seq

        first_task = asyncio.create_task(first())
        second_task = asyncio.create_task(second())
        await first_holds_lock.wait()
        await asyncio.sleep(0.3)
        # The second transaction cannot have taken a number while the first holds the channel.
        assert not second_task.done()
        release_first.set()
        assert await first_task == 1
        assert await second_task == 2


async def test_a_rolled_back_writer_hands_its_seq_to_the_one_waiting(database_url: str) -> None:
    async with migrated(database_url) as (_engine, sessions):
        holding = asyncio.Event()
        abort = asyncio.Event()

        async def doomed() -> None:
            async with transaction(sessions) as session:
                await emit(session, CHATS, message(1))
                holding.set()
                await abort.wait()
                raise LookupError("rolled back")

        doomed_task = asyncio.create_task(doomed())
        await holding.wait()
        waiting = asyncio.create_task(emit_messages(sessions, CHATS, 1))
        await asyncio.sleep(0.1)
        abort.set()
        with pytest.raises(LookupError):
            await doomed_task
        assert [envelope.seq for envelope in await waiting] == [1]
        assert [row.seq for row in await log_rows(sessions)] == [1]


async def test_concurrent_writers_get_distinct_gapless_seqs(database_url: str) -> None:
    async with migrated(database_url) as (_engine, sessions):
        results = await asyncio.gather(*(emit_messages(sessions, CHATS, 2) for _ in range(10)))
        rows = await log_rows(sessions)
    assert sorted(envelope.seq for batch in results for envelope in batch) == list(range(1, 21))
    assert [row.seq for row in rows] == list(range(1, 21))
    for batch in results:
        assert batch[1].seq == batch[0].seq + 1  # one call's events are consecutive


async def test_an_oversized_envelope_is_refused_and_nothing_is_written(database_url: str) -> None:
    huge = MessageUpdated(chat_id=1, message_id=1, version=1, changed=("field_name_x",) * 800)
    async with migrated(database_url) as (_engine, sessions):
        with pytest.raises(EventTooLarge, match="10240"):
            async with transaction(sessions) as session:
                await emit(session, CHATS, message())
                await emit(session, CHATS, huge)
        assert await log_rows(sessions) == []


async def test_the_limit_counts_the_encrypted_form_on_encrypted_channels(database_url: str) -> None:
    # About 8 KB of plaintext fits a private channel but not once sealed and base64-encoded.
    mid = MessageUpdated(chat_id=1, message_id=1, version=1, changed=("field_name_x",) * 520)
    async with migrated(database_url) as (_engine, sessions), transaction(sessions) as session:
        assert len((await emit(session, CHATS, mid)).encode()) > 7600
        with pytest.raises(EventTooLarge):
            await emit(session, "private-encrypted-workspace-1.chats", mid)


async def test_public_and_malformed_channels_are_refused(database_url: str) -> None:
    async with migrated(database_url) as (_engine, sessions), transaction(sessions) as session:
        with pytest.raises(ChannelRefused):
            await emit(session, "workspace-1.chats", message())
        with pytest.raises(InvalidName):
            await emit(session, "private-workspace-1.chats!", message())
        assert await emit_many(session, CHATS, []) == []


class Uncatalogued(Event):
    """An event a feature made up without adding it to the catalogue."""

    type: str = "chat.secret"
    body: str = "a message body"


class LooksLikeMessageNew(MessageNew):
    """A subclass of a catalogued event is not that event."""

    extra: int = 1


async def test_only_catalogued_events_are_emitted_and_nothing_else_is_written(database_url: str) -> None:
    disguised = MessageNew.model_construct(
        type="chat.secret", chat_id=1, message_id=1, direction="inbound", sender_type="contact"
    )
    async with migrated(database_url) as (_engine, sessions):
        for bad in (
            Uncatalogued(),
            Uncatalogued(type="message.new"),
            LooksLikeMessageNew(**message().data()),
            disguised,
        ):
            with pytest.raises(UnknownEvent, match="not a catalogued event"):
                async with transaction(sessions) as session:
                    await emit_many(session, CHATS, [message(), bad])
        assert await log_rows(sessions) == []
        async with sessions() as session:
            assert await session.scalar(select(func.count()).select_from(ChannelHead)) == 0


async def test_committing_rings_the_doorbell_and_rolling_back_does_not(database_url: str) -> None:
    async with migrated(database_url) as (engine, sessions):
        doorbell = wakeup.Doorbell()
        unregister = wakeup.register(engine.url, doorbell)
        try:
            with pytest.raises(LookupError):
                async with transaction(sessions) as session:
                    await emit(session, CHATS, message())
                    raise LookupError
            assert not await doorbell.wait(0.05)
            async with transaction(sessions) as session:
                await emit(session, CHATS, message())
                assert not await doorbell.wait(0.01)  # not before the commit
            assert await doorbell.wait(1.0)
        finally:
            unregister()


async def test_emit_is_one_round_trip_to_the_database(database_url: str) -> None:
    # PostgreSQL: one statement (the head, the rows and the NOTIFY in one CTE). SQLite: one hop to the
    # driver's thread for both statements, through aiosqlite's `_execute` (this fails if it disappears).
    async with migrated(database_url) as (engine, sessions):
        statements: list[str] = []
        hops = 0

        def count_statement(*args: object) -> None:
            statements.append(str(args[2]))

        async with transaction(sessions) as session:
            await session.execute(select(func.count()).select_from(ChannelHead))  # the transaction began
            connection = await session.connection()
            driver = (await connection.get_raw_connection()).driver_connection
            if database_url.startswith("sqlite"):
                execute = driver._execute  # type: ignore[union-attr]

                async def counted(*args: object, **kwargs: object) -> object:
                    nonlocal hops
                    hops += 1
                    return await execute(*args, **kwargs)

                driver._execute = counted  # type: ignore[union-attr]
            event.listen(engine.sync_engine, "before_cursor_execute", count_statement)
            try:
                envelopes = await emit_many(session, CHATS, [message(1), message(2), message(3)])
                emit_hops = hops
            finally:
                event.remove(engine.sync_engine, "before_cursor_execute", count_statement)
        rows = await log_rows(sessions)
    if database_url.startswith("sqlite"):
        assert statements == [] and emit_hops == 1
    else:
        assert len(statements) == 1 and "pg_notify" in statements[0]
    assert [envelope.seq for envelope in envelopes] == [1, 2, 3]
    assert [row.payload for row in rows] == [envelope.encode() for envelope in envelopes]
