"""What the relay does beyond publishing: leaving out the sender's socket, and closing connections."""

from __future__ import annotations

from sqlalchemy import select

from tests.support.accounts import migrated
from tests.support.events import CHATS, FakePusher, message, relay_for, scripted, until
from waxos.db.engine import transaction
from waxos.events import MemberRemoved, emit, emit_many
from waxos.events.catchup import read_after
from waxos.events.terminations import UserTermination, terminate_connections


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
