"""The relay against a stand-in Pusher API: order, batching, wake-up, retries, poison, leases, metrics."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.support.accounts import migrated
from tests.support.events import (
    CHATS,
    OTHER,
    FakePusher,
    Received,
    Reply,
    emit_messages,
    log_rows,
    publisher_for,
    relay_for,
    scripted,
    until,
)
from waxos.db.base import utcnow
from waxos.db.engine import transaction
from waxos.events.catchup import read_after
from waxos.relay.backoff import BreakerState
from waxos.relay.leases import RelayLease
from waxos.relay.relay import Outcome, Relay, RelayConfig, RoundResult


@asynccontextmanager
async def running(relay: Relay) -> AsyncIterator[Relay]:
    await relay.start()
    try:
        yield relay
    finally:
        await relay.aclose()


ENCRYPTED = "private-encrypted-workspace-9.chats"


class ScriptedBug(Exception):
    """What a bug in a round raises, for the test that the loop survives it."""


class FakeClock:
    """A monotonic clock that moves only when told: the relay's and its backoffs' time in a test."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def sample(relay: Relay, name: str, **labels: str) -> float:
    """A metric's current value, read through the registry's public API."""
    value = relay.metrics.registry.get_sample_value(name, labels)
    assert value is not None, f"no sample {name} {labels}"
    return value


async def test_delivers_every_channel_in_seq_order_in_batches_of_ten(
    database_url: str, fake: FakePusher
) -> None:
    async with migrated(database_url) as (engine, sessions):
        channels = [f"private-workspace-{n}.chats" for n in range(1, 8)]
        for channel in channels:
            await emit_messages(sessions, channel, 23)
        relay = relay_for(engine, fake)
        while (await relay.run_once()).outcome is not Outcome.IDLE:
            pass
        rows = await log_rows(sessions)
    for channel in channels:
        assert fake.seqs(channel) == list(range(1, 24))
    assert len(fake.received) == 7 * 23
    assert max(fake.batch_sizes) == 10
    assert all(row.delivered_at is not None for row in rows)
    event = fake.received[0]
    assert event["name"] == event["type"] == "message.new"
    assert set(event) >= {"id", "seq", "channel", "occurred_at", "workspace_id", "data"}


async def test_wakes_on_commit_without_waiting_for_the_sweep(database_url: str, fake: FakePusher) -> None:
    async with (
        migrated(database_url) as (engine, sessions),
        running(relay_for(engine, fake, sweep_seconds=120)),
    ):
        await asyncio.sleep(0.1)  # the relay has looked, found nothing, and sleeps
        await emit_messages(sessions, CHATS, 3)
        await until(lambda: len(fake.received) == 3, seconds=10)
        await emit_messages(sessions, CHATS, 2)
        await until(lambda: len(fake.received) == 5, seconds=10)
    assert fake.seqs(CHATS) == [1, 2, 3, 4, 5]


async def test_a_failed_request_is_retried_with_backoff_and_nothing_is_lost(
    database_url: str, fake: FakePusher
) -> None:
    fake.script = [lambda _r: scripted(503), lambda _r: scripted(502)]
    async with migrated(database_url) as (engine, sessions):
        await emit_messages(sessions, CHATS, 25)
        relay = relay_for(engine, fake, base_delay=0.2, max_delay=1.0)
        async with running(relay):
            await until(lambda: len(fake.received) == 25)
        rows = await log_rows(sessions)
    assert fake.seqs(CHATS) == list(range(1, 26))
    # Two failures: waits of at least 0.1 s and 0.2 s (equal jitter keeps half the exponential delay).
    assert fake.times[1] - fake.times[0] >= 0.1
    assert fake.times[2] - fake.times[1] >= 0.2
    assert all(row.delivered_at is not None for row in rows)
    assert sample(relay, "waxos_relay_failed_requests_total", kind="server_error") == 2


async def test_429_retry_after_is_honoured(database_url: str, fake: FakePusher) -> None:
    fake.script = [lambda _r: scripted(429, {"Retry-After": "1"})]
    async with migrated(database_url) as (engine, sessions):
        await emit_messages(sessions, CHATS, 5)
        async with running(relay_for(engine, fake, base_delay=0.01)):
            await until(lambda: len(fake.received) == 5)
    assert fake.times[1] - fake.times[0] >= 0.99
    assert fake.requests == 2


async def test_a_dead_endpoint_gets_one_probe_per_backoff_while_events_accumulate(
    database_url: str, fake: FakePusher
) -> None:
    down = True

    def answer(request: Received) -> Reply:
        return scripted(503) if down else Reply()

    fake.script = [answer] * 1000
    async with migrated(database_url) as (engine, sessions):
        relay = relay_for(engine, fake, base_delay=0.05, max_delay=0.4)
        async with running(relay):
            for _ in range(10):
                await emit_messages(sessions, CHATS, 10)
                await emit_messages(sessions, OTHER, 5)
                await asyncio.sleep(0.1)
            assert relay.backoff.state in (BreakerState.OPEN, BreakerState.HALF_OPEN)
            # Over ~1 s of outage with delays doubling to 0.4 s: a handful of probes, not a busy loop.
            failed_requests = fake.requests
            assert 2 <= failed_requests <= 12
            down = False
            await until(lambda: len(fake.received) == 150)
        assert relay.backoff.state is BreakerState.CLOSED
        assert all(row.delivered_at is not None for row in await log_rows(sessions))
    assert fake.seqs(CHATS) == list(range(1, 101))
    assert fake.seqs(OTHER) == list(range(1, 51))


async def test_a_timeout_is_a_retryable_failure(database_url: str, fake: FakePusher) -> None:
    async def too_slow(request: Received) -> Reply:
        await asyncio.sleep(2)
        return Reply()

    fake.script = [too_slow]
    async with migrated(database_url) as (engine, sessions):
        await emit_messages(sessions, CHATS, 3)
        relay = relay_for(engine, fake, request_timeout=0.2)
        assert (await relay.run_once()).outcome is Outcome.FAILED
        await asyncio.sleep(relay.backoff.delay_remaining())
        assert (await relay.run_once()).outcome is Outcome.DELIVERED
    assert fake.seqs(CHATS) == [1, 2, 3]
    assert sample(relay, "waxos_relay_failed_requests_total", kind="timeout") == 1


async def test_an_event_pusher_refuses_is_skipped_alone_and_stays_in_the_log(
    database_url: str, fake: FakePusher
) -> None:
    def refuse_seq_4(request: Received) -> Reply:
        return scripted(400) if b'\\"seq\\":4,' in request.content else Reply()

    fake.script = [refuse_seq_4] * 11
    async with migrated(database_url) as (engine, sessions):
        await emit_messages(sessions, CHATS, 10)
        relay = relay_for(engine, fake)
        assert (await relay.run_once()).outcome is Outcome.DELIVERED
        rows = await log_rows(sessions)
        async with sessions() as session:
            page = await read_after(session, CHATS, 3, 1)
    # The batch of ten failed; sent one by one, all but seq 4 went through, in order.
    assert fake.seqs(CHATS) == [1, 2, 3, 5, 6, 7, 8, 9, 10]
    # A client sees the gap at seq 5 and catches up: seq 4 is served.
    assert [json.loads(event)["seq"] for event in page.events] == [4]
    assert [row.seq for row in rows] == list(range(1, 11))
    assert all(row.delivered_at is not None for row in rows)
    assert sample(relay, "waxos_relay_rejected_events_total") == 1


async def test_an_endpoint_that_refuses_everything_with_400_marks_nothing_and_opens_the_breaker(
    database_url: str, fake: FakePusher
) -> None:
    """A proxy answering 400 to every request is not ten bad events: nothing is marked delivered, the
    round fails (the breaker opens, the backlog alerts see it), and every event is sent once it answers."""
    fake.script = [lambda _r: scripted(400)] * 12
    async with migrated(database_url) as (engine, sessions):
        await emit_messages(sessions, CHATS, 10)
        relay = relay_for(engine, fake)
        first = await relay.run_once()
        rows = await log_rows(sessions)
        assert first.outcome is Outcome.FAILED
        assert all(row.delivered_at is None for row in rows)
        assert sample(relay, "waxos_relay_rejected_events_total") == 0
        assert relay.backoff.failures == 1
        while fake.script:
            fake.script.pop()
        await relay.run_once()  # half-open: one request
        await relay.run_once()
        rows = await log_rows(sessions)
    assert fake.seqs(CHATS) == list(range(1, 11))
    assert all(row.delivered_at is not None for row in rows)


async def test_unauthorized_is_retried_not_skipped(database_url: str, fake: FakePusher) -> None:
    fake.script = [lambda _r: scripted(401), lambda _r: scripted(404)]
    async with migrated(database_url) as (engine, sessions):
        await emit_messages(sessions, CHATS, 2)
        async with running(relay_for(engine, fake)):
            await until(lambda: len(fake.received) == 2)
    assert fake.seqs(CHATS) == [1, 2] and fake.requests == 3


async def test_two_relays_share_the_log_without_duplicates_or_reordering(
    database_url: str, fake: FakePusher
) -> None:
    channels = [f"private-workspace-{n}.chats" for n in range(1, 13)]
    async with migrated(database_url) as (engine, sessions):
        first = relay_for(engine, fake, owner="relay-a", per_channel=7, lanes=2)
        second = relay_for(engine, fake, owner="relay-b", per_channel=7, lanes=2)
        async with running(first), running(second):
            for round_number in range(6):
                await asyncio.gather(*(emit_messages(sessions, channel, 5) for channel in channels))
                await asyncio.sleep(0.01 * round_number)
            await until(lambda: len(fake.received) == 12 * 30)
    for channel in channels:
        assert fake.seqs(channel) == list(range(1, 31))


async def test_a_channel_leased_by_a_live_relay_waits_for_the_lease_to_expire(
    database_url: str, fake: FakePusher
) -> None:
    async with migrated(database_url) as (engine, sessions):
        await emit_messages(sessions, CHATS, 2)
        await emit_messages(sessions, OTHER, 2)
        async with transaction(sessions) as session:
            expires = utcnow() + timedelta(seconds=1)
            session.add(RelayLease(channel=CHATS, owner="crashed", expires_at=expires))
        relay = relay_for(engine, fake)
        assert (await relay.run_once()).outcome is Outcome.DELIVERED
        assert fake.seqs(CHATS) == [] and fake.seqs(OTHER) == [1, 2]
        await asyncio.sleep(1.1)
        assert (await relay.run_once()).outcome is Outcome.DELIVERED
        async with sessions() as session:
            owners = set(await session.scalars(select(RelayLease.owner)))
    assert fake.seqs(CHATS) == [1, 2]
    assert owners == {relay.config.owner}


@pytest.mark.parametrize("skew", [-10.0, 10.0])
async def test_leases_are_decided_on_the_database_clock_whatever_the_relays_clock_says(
    database_url: str, fake: FakePusher, monkeypatch: pytest.MonkeyPatch, skew: float
) -> None:
    # The relay's host clock is 10 s off the database's (which is this machine's, like the test's own).
    monkeypatch.setattr("waxos.relay.relay.utcnow", lambda: utcnow() + timedelta(seconds=skew))
    sent_on: list[tuple[str, str, timedelta]] = []

    async def check_leases(request: Received) -> Reply:
        # At every request: who holds each channel sent, and until when, in the database's time.
        async with sessions() as session:
            for lease in await session.scalars(select(RelayLease)):
                if lease.channel.encode() in request.content:
                    sent_on.append((lease.channel, lease.owner, lease.expires_at - utcnow()))
        return Reply()

    fake.script = [check_leases] * 10
    async with migrated(database_url) as (engine, sessions):
        await emit_messages(sessions, CHATS, 2)
        await emit_messages(sessions, OTHER, 2)
        async with transaction(sessions) as session:
            # Another relay's fresh lease, and one of ours that the database says expired a second ago.
            fresh, expired = utcnow() + timedelta(seconds=3), utcnow() - timedelta(seconds=1)
            session.add(RelayLease(channel=CHATS, owner="relay-b", expires_at=fresh))
            session.add(RelayLease(channel=OTHER, owner="relay-a", expires_at=expired))
        relay = relay_for(engine, fake, owner="relay-a", lease_seconds=3.0)
        before = utcnow()
        assert (await relay.run_once()).outcome is Outcome.DELIVERED
        after = utcnow()
        async with sessions() as session:
            owners = {lease.channel: lease for lease in await session.scalars(select(RelayLease))}
    assert fake.seqs(CHATS) == [], "another relay's fresh lease was taken"
    assert owners[CHATS].owner == "relay-b"
    assert fake.seqs(OTHER) == [1, 2]
    # Sent only on a lease renewed first, for the lease's term of the database's time.
    assert sent_on and all(channel == OTHER and owner == "relay-a" for channel, owner, _ in sent_on)
    assert all(timedelta(seconds=1.5) < left <= timedelta(seconds=3) for _, _, left in sent_on)
    lease = owners[OTHER]
    assert before + timedelta(seconds=3) - timedelta(milliseconds=5) <= lease.expires_at
    assert lease.expires_at <= after + timedelta(seconds=3)


async def test_a_clean_stop_releases_the_leases(database_url: str, fake: FakePusher) -> None:
    async with migrated(database_url) as (engine, sessions):
        await emit_messages(sessions, CHATS, 2)
        async with running(relay_for(engine, fake)):
            await until(lambda: len(fake.received) == 2)
        async with sessions() as session:
            assert list(await session.scalars(select(RelayLease))) == []


async def test_a_stop_before_the_relay_task_first_runs_ends_it_without_cancelling(
    database_url: str, fake: FakePusher
) -> None:
    # A lifespan that shuts down at once used to wait out the whole grace period, then cancel.
    async with migrated(database_url) as (engine, _sessions):
        relay = relay_for(engine, fake)
        await relay.start()
        await relay.aclose(grace_seconds=60)
        assert relay._task is not None and relay._task.done() and not relay._task.cancelled()


async def test_backlog_and_oldest_age_are_exported(database_url: str, fake: FakePusher) -> None:
    fake.script = [lambda _r: scripted(503)]
    async with migrated(database_url) as (engine, sessions):
        await emit_messages(sessions, CHATS, 4)
        relay = relay_for(engine, fake, metrics_every_seconds=0.0)
        assert (await relay.run_once()).outcome is Outcome.FAILED
        await relay._housekeeping()
        assert sample(relay, "waxos_relay_backlog_events") == 4
        assert sample(relay, "waxos_relay_oldest_undelivered_seconds") > 0
        await asyncio.sleep(relay.backoff.delay_remaining())
        assert (await relay.run_once()).outcome is Outcome.DELIVERED
        await relay._housekeeping()
        assert sample(relay, "waxos_relay_backlog_events") == 0
        assert sample(relay, "waxos_relay_oldest_undelivered_seconds") == 0
        assert sample(relay, "waxos_relay_delivered_events_total") == 4


@pytest.mark.parametrize("lanes", [1, 4])
async def test_lanes_keep_each_channel_in_one_request_sequence(
    database_url: str, lanes: int, fake: FakePusher
) -> None:
    in_flight = 0
    overlapped = 0
    chats_requests = 0

    async def slow_for_chats(request: Received) -> Reply:
        # The first channel's requests are slow, the earliest slowest: if two were ever in flight at once,
        # the later would overtake, and the in-flight count would see it.
        nonlocal in_flight, overlapped, chats_requests
        if CHATS.encode() not in request.content:
            return Reply()
        chats_requests += 1
        in_flight += 1
        overlapped = max(overlapped, in_flight)
        await asyncio.sleep(0.2 - 0.04 * min(chats_requests, 4))
        in_flight -= 1
        return Reply()

    fake.script = [slow_for_chats] * 100
    async with migrated(database_url) as (engine, sessions):
        await emit_messages(sessions, CHATS, 40)
        for n in range(3, 9):
            await emit_messages(sessions, f"private-workspace-{n}.chats", 10)
        relay = relay_for(engine, fake, lanes=lanes)
        assert (await relay.run_once()).outcome is Outcome.DELIVERED
    order = [(event["channel"], event["seq"]) for event in fake.received]
    assert overlapped == 1, "one channel's requests never overlap"
    assert [seq for channel, seq in order if channel == CHATS] == list(range(1, 41))
    assert len(order) == 100


async def test_a_fresh_lease_is_not_rewritten_each_round_and_is_renewed_past_half_its_term(
    database_url: str,
    fake: FakePusher,
) -> None:
    async with migrated(database_url) as (engine, sessions):
        relay = relay_for(engine, fake, lease_seconds=30)

        async def lease_expiry() -> object:
            async with sessions() as session:
                return await session.scalar(select(RelayLease.expires_at).where(RelayLease.channel == CHATS))

        await emit_messages(sessions, CHATS, 2)
        assert (await relay.run_once()).outcome is Outcome.DELIVERED
        first = await lease_expiry()
        await emit_messages(sessions, CHATS, 2)
        assert (await relay.run_once()).outcome is Outcome.DELIVERED
        # More than half the term left: the round only read, the lease row is untouched.
        assert await lease_expiry() == first
        async with transaction(sessions) as session:
            lease = await session.get(RelayLease, CHATS)
            assert lease is not None
            lease.expires_at = utcnow() + timedelta(seconds=14)
        await emit_messages(sessions, CHATS, 2)
        assert (await relay.run_once()).outcome is Outcome.DELIVERED
        renewed = await lease_expiry()
        assert isinstance(renewed, type(utcnow())) and renewed > utcnow() + timedelta(seconds=29)
    assert fake.seqs(CHATS) == list(range(1, 7))


async def test_a_round_that_delivered_everything_is_not_followed_by_an_empty_one(
    database_url: str, fake: FakePusher
) -> None:
    async with migrated(database_url) as (engine, sessions):
        relay = relay_for(engine, fake, sweep_seconds=120)
        outcomes: list[Outcome] = []
        run_once = relay.run_once

        async def counted() -> RoundResult:
            result = await run_once()
            outcomes.append(result.outcome)
            return result

        relay.run_once = counted  # type: ignore[method-assign]
        async with running(relay):
            await asyncio.sleep(0.3)  # looked, found nothing (PostgreSQL: twice, once for LISTEN)
            assert set(outcomes) == {Outcome.IDLE}
            before = len(outcomes)
            await emit_messages(sessions, CHATS, 3)
            await until(lambda: len(fake.received) == 3)
            await asyncio.sleep(0.3)
            # The commit's ring woke one round; nothing rang since, so the relay sleeps. On PostgreSQL
            # the same commit's NOTIFY may arrive after that round began, and wake one more.
            after = outcomes[before:]
            assert after[0] is Outcome.DELIVERED
            assert after[1:] == ([] if database_url.startswith("sqlite") else after[1:2])
            assert set(after[1:]) <= {Outcome.IDLE}
            await emit_messages(sessions, CHATS, 1)
            await until(lambda: len(fake.received) == 4)
    assert fake.seqs(CHATS) == [1, 2, 3, 4]


async def test_a_round_cut_short_by_per_channel_continues_without_waiting_for_the_sweep(
    database_url: str,
    fake: FakePusher,
) -> None:
    async with migrated(database_url) as (engine, sessions):
        await emit_messages(sessions, CHATS, 12)
        await emit_messages(sessions, OTHER, 3)
        async with running(relay_for(engine, fake, sweep_seconds=120, per_channel=5, max_channels=1)):
            await until(lambda: len(fake.received) == 15, seconds=10)
    assert fake.seqs(CHATS) == list(range(1, 13))
    assert fake.seqs(OTHER) == [1, 2, 3]


async def test_413_is_a_spent_quota_retried_with_backoff_not_poison(
    database_url: str, fake: FakePusher
) -> None:
    # emit keeps every envelope under 10,240 bytes, so Pusher's 413 means the message quota is spent.
    fake.script = [lambda _r: scripted(413)]
    async with migrated(database_url) as (engine, sessions):
        await emit_messages(sessions, CHATS, 3)
        relay = relay_for(engine, fake)
        assert (await relay.run_once()).outcome is Outcome.FAILED
        assert fake.requests == 1 and relay.backoff.failures == 1
        assert all(row.delivered_at is None for row in await log_rows(sessions))
        await asyncio.sleep(relay.backoff.delay_remaining())
        assert (await relay.run_once()).outcome is Outcome.DELIVERED
        assert all(row.delivered_at is not None for row in await log_rows(sessions))
    assert fake.seqs(CHATS) == [1, 2, 3]
    assert sample(relay, "waxos_relay_rejected_events_total") == 0


async def test_encrypted_channels_without_a_master_key_wait_for_the_configuration(
    database_url: str, caplog: pytest.LogCaptureFixture, fake: FakePusher
) -> None:
    async with migrated(database_url) as (engine, sessions):
        await emit_messages(sessions, ENCRYPTED, 2)
        unconfigured = Relay(
            engine,
            publisher_for(fake, pusher_encryption_master_key_base64=None),
            RelayConfig(owner="relay-a", base_delay=0.05, max_delay=0.4),
        )
        with caplog.at_level(logging.ERROR, logger="waxos"):
            result = await unconfigured.run_once()
        assert any("PUSHER_ENCRYPTION_MASTER_KEY_BASE64" in r.getMessage() for r in caplog.records)
        # A fault of this channel alone: it backs off by itself, the breaker stays closed, nothing is skipped.
        assert result.held == (ENCRYPTED,) and result.delivered == 0 and result.retry_in is None
        assert unconfigured.backoff.failures == 0 and unconfigured.held[ENCRYPTED].failures == 1
        assert sample(unconfigured, "waxos_relay_rejected_events_total") == 0
        assert sample(unconfigured, "waxos_relay_held_channels") == 1
        assert fake.requests == 0
        assert all(row.delivered_at is None for row in await log_rows(sessions))
        # The key is configured (a restart with the fixed settings): nothing was lost.
        configured = relay_for(engine, fake, owner="relay-a")
        assert (await configured.run_once()).outcome is Outcome.DELIVERED
        assert all(row.delivered_at is not None for row in await log_rows(sessions))
    assert [(event["channel"], event["name"]) for event in fake.received] == [(ENCRYPTED, "message.new")] * 2


async def rounds_until_idle(relay: Relay) -> list[RoundResult]:
    """Run rounds until one finds nothing to do; return them (the idle one excluded)."""
    results = []
    while (result := await relay.run_once()).outcome is not Outcome.IDLE:
        results.append(result)
        assert len(results) < 50, "the relay never ran out of work"
    return results


async def test_a_channel_that_keeps_failing_backs_off_alone_while_100_others_flow(
    database_url: str, fake: FakePusher
) -> None:
    clock = FakeClock()

    async def deliver_waves(poisoned: bool) -> tuple[list[int], Relay]:
        """Rounds each wave of one event per healthy channel took, with or without the bad channel."""
        # The same database for both runs: each run has its own hundred channels.
        healthy = [f"private-workspace-{n + (100 if poisoned else 0)}.chats" for n in range(1, 101)]
        async with migrated(database_url) as (engine, sessions):
            if poisoned:
                await emit_messages(sessions, ENCRYPTED, 3)  # the oldest work: first in every round
            relay = Relay(
                engine,
                publisher_for(fake, pusher_encryption_master_key_base64=None),
                RelayConfig(owner="relay-a", base_delay=4.0, max_delay=30.0),
                clock=clock,
            )
            rounds = []
            for _wave in range(3):
                for channel in healthy:
                    await emit_messages(sessions, channel, 1)
                rounds.append(len(await rounds_until_idle(relay)))
                clock.advance(0.5)  # the bad channel's own delay (at least 2 s) has not passed
            undelivered = {row.channel for row in await log_rows(sessions) if row.delivered_at is None}
        assert undelivered == ({ENCRYPTED} if poisoned else set())
        for channel in healthy:
            assert fake.seqs(channel) == [1, 2, 3]
        return rounds, relay

    without, _ = await deliver_waves(poisoned=False)
    rounds, relay = await deliver_waves(poisoned=True)
    # The bad channel costs the healthy ones at most the round in which it first failed, then nothing.
    assert rounds[0] <= without[0] + 1 and rounds[1:] == without[1:]
    assert relay.backoff.state is BreakerState.CLOSED and relay.backoff.failures == 0
    assert relay.held[ENCRYPTED].failures == 1 and relay.held[ENCRYPTED].delay_remaining() > 0


async def test_a_held_channel_is_retried_alone_when_its_delay_has_passed(
    database_url: str, fake: FakePusher
) -> None:
    clock = FakeClock()
    async with migrated(database_url) as (engine, sessions):
        await emit_messages(sessions, ENCRYPTED, 1)
        await emit_messages(sessions, CHATS, 1)
        relay = Relay(
            engine,
            publisher_for(fake, pusher_encryption_master_key_base64=None),
            RelayConfig(owner="relay-a", base_delay=1.0, max_delay=30.0),
            clock=clock,
        )
        assert (await relay.run_once()).held == (ENCRYPTED,)
        await emit_messages(sessions, CHATS, 1)
        # Still waiting: the round leaves the channel out (no attempt, no new failure).
        assert (await relay.run_once()).held == ()
        assert relay.held[ENCRYPTED].failures == 1
        clock.advance(relay.held[ENCRYPTED].delay_remaining())
        assert (await relay.run_once()).held == (ENCRYPTED,)
        assert relay.held[ENCRYPTED].failures == 2  # tried again, failed again: a longer delay
    assert fake.seqs(CHATS) == [1, 2]


async def test_a_running_relay_keeps_delivering_while_a_channel_backs_off(
    database_url: str, fake: FakePusher
) -> None:
    async with migrated(database_url) as (engine, sessions):
        relay = Relay(
            engine,
            publisher_for(fake, pusher_encryption_master_key_base64=None),
            # The bad channel's own delay (at least 30 s) outlasts the test; the sweep never fires.
            RelayConfig(owner="relay-a", base_delay=60.0, max_delay=60.0, sweep_seconds=120),
        )
        await emit_messages(sessions, ENCRYPTED, 2)
        async with running(relay):
            for wave in range(1, 6):
                await emit_messages(sessions, CHATS, 1)
                await emit_messages(sessions, OTHER, 1)
                await until(lambda w=wave: len(fake.received) == 2 * w, seconds=10)
            assert relay.held[ENCRYPTED].delay_remaining() > 0
            assert relay.backoff.state is BreakerState.CLOSED
    assert fake.seqs(CHATS) == fake.seqs(OTHER) == [1, 2, 3, 4, 5]


async def test_a_round_starts_no_request_once_its_lease_is_nearly_over(
    database_url: str, fake: FakePusher
) -> None:
    clock = FakeClock()

    def slow(request: Received) -> Reply:
        clock.advance(0.3)  # each request takes 0.3 s of the relay's clock
        return Reply()

    fake.script = [slow] * 100
    async with migrated(database_url) as (engine, sessions):
        await emit_messages(sessions, CHATS, 40)
        # Lease 2 s, request timeout 1.5 s: requests may start for 0.5 s, so two of them per round.
        relay = Relay(
            engine,
            publisher_for(fake),
            RelayConfig(lease_seconds=2.0, request_timeout=1.5, base_delay=0.05, max_delay=0.4),
            clock=clock,
        )
        result = await relay.run_once()
        assert result.outcome is Outcome.DELIVERED and result.delivered == 20 and result.more
        assert fake.seqs(CHATS) == list(range(1, 21))
        rows = await log_rows(sessions)
        assert [row.seq for row in rows if row.delivered_at is not None] == list(range(1, 21))
        assert [result.delivered for result in await rounds_until_idle(relay)] == [20]
    assert fake.seqs(CHATS) == list(range(1, 41))


async def test_a_round_marks_nothing_where_another_relay_took_the_lease(
    database_url: str, caplog: pytest.LogCaptureFixture, fake: FakePusher
) -> None:
    third = "private-workspace-3.chats"
    taken = False

    async def lose_leases(request: Received) -> Reply:
        # While the round is in flight, one lease passes to another relay and one expires untaken.
        nonlocal taken
        if not taken:
            taken = True
            async with transaction(sessions) as session:
                stolen, expired = await session.get(RelayLease, CHATS), await session.get(RelayLease, OTHER)
                assert stolen is not None and expired is not None
                stolen.owner = "relay-b"
                expired.expires_at = utcnow() - timedelta(seconds=1)
        return Reply()

    fake.script = [lose_leases] * 3
    async with migrated(database_url) as (engine, sessions):
        for channel in (CHATS, OTHER, third):
            await emit_messages(sessions, channel, 2)
        relay = relay_for(engine, fake, owner="relay-a")
        with caplog.at_level(logging.WARNING, logger="waxos"):
            assert (await relay.run_once()).outcome is Outcome.DELIVERED
        delivered = {(row.channel, row.seq) for row in await log_rows(sessions) if row.delivered_at}
    assert len(fake.received) == 6
    # The expired lease nobody took is still ours: no other relay sent its events, so they are marked.
    assert delivered == {(third, 1), (third, 2), (OTHER, 1), (OTHER, 2)}
    assert sample(relay, "waxos_relay_delivered_events_total") == 4
    lost = [r.getMessage() for r in caplog.records if "lease lost" in r.getMessage()]
    assert any(CHATS in message for message in lost)
    assert not any(OTHER in message for message in lost)


async def test_the_relay_survives_an_unexpected_exception_and_reports_that_it_runs(
    database_url: str, caplog: pytest.LogCaptureFixture, fake: FakePusher
) -> None:
    async with migrated(database_url) as (engine, sessions):
        relay = relay_for(engine, fake, sweep_seconds=0.1)
        run_once = relay.run_once
        calls = 0

        async def broken_once() -> RoundResult:
            nonlocal calls
            calls += 1
            if calls == 1:
                raise ScriptedBug("scripted: a bug in a round")
            return await run_once()

        relay.run_once = broken_once  # type: ignore[method-assign]
        assert sample(relay, "waxos_relay_running") == 0
        await emit_messages(sessions, CHATS, 3)
        with caplog.at_level(logging.ERROR, logger="waxos"):
            async with running(relay):
                await until(lambda: len(fake.received) == 3, seconds=5)
                assert sample(relay, "waxos_relay_running") == 1
                assert relay._task is not None and not relay._task.done()
        assert sample(relay, "waxos_relay_running") == 0
    assert fake.seqs(CHATS) == [1, 2, 3]
    # Logged with its traceback (a JSON log formatter may have moved exc_info into exc_text already).
    assert "relay round failed unexpectedly" in caplog.text
    assert "Traceback" in caplog.text and "ScriptedBug: scripted" in caplog.text
