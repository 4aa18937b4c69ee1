"""What the relay does beyond publishing: leaving out the sender's socket, and closing connections."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import delete, select

from tests.support.accounts import migrated
from tests.support.events import CHATS, FakePusher, message, relay_for, scripted, until
from waxos.db.base import utcnow
from waxos.db.engine import transaction
from waxos.events import MemberRemoved, emit, emit_many
from waxos.events.catchup import read_after
from waxos.events.terminations import MAX_WAIT, UserTermination, pending, terminate_connections
from waxos.relay.leases import RelayLease


async def test_each_event_goes_out_without_the_socket_that_caused_it_and_catch_up_keeps_it(
    database_url: str, fake: FakePusher
) -> None:
    async with migrated(database_url) as (engine, sessions):
        async with transaction(sessions) as session:
            await emit_many(session, CHATS, [message(1), message(2)], socket_id="1234.5678")
            await emit(session, CHATS, message(3))
        relay = relay_for(engine, fake)
        await relay.run_once()
        async with sessions() as session:
            page = await read_after(session, CHATS, 0, 10)
    assert [(event["seq"], event["socket_id"]) for event in fake.received] == [
        (1, "1234.5678"),
        (2, "1234.5678"),
        (3, None),
    ]
    assert len(page.events) == 3, "catch-up serves the excluded socket's events too"


async def test_a_termination_goes_out_after_the_round_that_carries_its_event_and_is_then_forgotten(
    database_url: str, fake: FakePusher
) -> None:
    async with migrated(database_url) as (engine, sessions):
        async with transaction(sessions) as session:
            await emit(session, "private-user-7", MemberRemoved(user_id=7, removed_by_id=1))
            await terminate_connections(session, 7)
        relay = relay_for(engine, fake, terminate_every_seconds=0.05)
        await relay.start()
        try:
            await until(lambda: fake.terminated == ["7"], seconds=10)
        finally:
            await relay.aclose()
        async with sessions() as session:
            left = list(await session.scalars(select(UserTermination)))
    assert fake.calls == ["batch", "terminate"], "member.removed reaches the user before the disconnect"
    assert left == []


async def test_a_termination_waits_for_the_users_channel_even_when_another_relay_holds_it(
    database_url: str, fake: FakePusher
) -> None:
    """Relay B holds the lease on the user's channel: relay A must not close the connections before
    B (here: A, once B's lease is gone) has delivered `member.removed` on it."""
    async with migrated(database_url) as (engine, sessions):
        async with transaction(sessions) as session:
            await emit(session, "private-user-7", MemberRemoved(user_id=7, removed_by_id=1))
            await terminate_connections(session, 7)
            session.add(
                RelayLease(
                    channel="private-user-7", owner="relay-b", expires_at=utcnow() + timedelta(hours=1)
                )
            )
        relay = relay_for(engine, fake, owner="relay-a", terminate_every_seconds=0.05)
        await relay.start()
        try:
            await asyncio.sleep(0.5)
            assert fake.calls == [], "no disconnect while member.removed is undelivered"
            async with transaction(sessions) as session:
                await session.execute(delete(RelayLease))  # relay B stopped and gave up its lease
            await until(lambda: fake.terminated == ["7"], seconds=10)
        finally:
            await relay.aclose()
    assert fake.calls == ["batch", "terminate"]


async def test_a_termination_goes_out_anyway_once_it_waited_its_longest(database_url: str) -> None:
    """A user's channel that cannot be delivered does not keep their connections open for ever."""
    async with migrated(database_url) as (_engine, sessions):
        async with transaction(sessions) as session:
            await emit(session, "private-user-7", MemberRemoved(user_id=7, removed_by_id=1))
            await terminate_connections(session, 7)
            await terminate_connections(session, 8)  # nothing logged on user 8's channel: due at once
        async with sessions() as session:
            now = [t.user_id for t in await pending(session, 10)]
            later = [
                t.user_id for t in await pending(session, 10, utcnow() + MAX_WAIT + timedelta(seconds=1))
            ]
    assert now == [8]
    assert later == [7, 8]


async def test_a_termination_pusher_refused_is_sent_again(database_url: str, fake: FakePusher) -> None:
    fake.script = [lambda _request: scripted(500)]
    async with migrated(database_url) as (engine, sessions):
        async with transaction(sessions) as session:
            await terminate_connections(session, 42)
            await terminate_connections(session, 42)  # asked twice before it went out: once is enough
        relay = relay_for(engine, fake, terminate_every_seconds=0.05)
        await relay.start()
        try:
            await until(lambda: fake.terminated == ["42"], seconds=10)
        finally:
            await relay.aclose()
        async with sessions() as session:
            assert list(await session.scalars(select(UserTermination))) == []
    assert fake.requests == 2
