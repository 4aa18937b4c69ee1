"""The relay follows the active provider: it fails over to a healthy secondary when its circuit to the
primary stays open, announces the switch on both providers, and follows a switch made by hand."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.support.accounts import migrated
from tests.support.events import (
    FakePusher,
    Received,
    Reply,
    StandIn,
    emit_messages,
    log_rows,
    until,
    until_delivered,
)
from tests.support.settings import make_settings
from waxos.db.engine import make_sessionmaker, transaction
from waxos.providers.failover import FailoverRules
from waxos.providers.registry import ProviderServices
from waxos.providers.state import ChangedBy, Provider, read_active, switch
from waxos.publisher.service import PusherService
from waxos.relay.failover import ProviderMetrics, ProviderWatch
from waxos.relay.relay import Relay, RelayConfig

CHANNEL = "private-workspace-1.chats"
SECONDARY = {
    "pusher_secondary_app_id": "200002",
    "pusher_secondary_key": "second-key",
    "pusher_secondary_secret": "second-secret",
    "pusher_secondary_host": "127.0.0.2",
    "pusher_secondary_port": 6002,
    "pusher_secondary_use_tls": False,
}


@dataclass
class FakeProvider:
    """One provider's HTTP API in memory: batches go to `batches`, other triggers to `notices`."""

    down: bool = False
    batches: FakePusher = field(default_factory=FakePusher)
    notices: list[dict[str, Any]] = field(default_factory=list)
    probes: int = 0

    async def __call__(self, request: Received) -> Reply:
        if self.down:
            return Reply(503, "down")
        if request.path.endswith("/batch_events"):
            return await self.batches(request)
        if request.path.endswith("/events"):
            self.notices.append(json.loads(request.content))
            return Reply()
        self.probes += 1
        return Reply(200, '{"channels": {}}')


@asynccontextmanager
async def relay_with_providers(
    engine: Any, database_url: str, primary: FakeProvider, secondary: FakeProvider, rules: FailoverRules
) -> AsyncIterator[tuple[Relay, ProviderServices, ProviderMetrics]]:
    """A relay (not started) delivering to whichever of the two stand-in providers is active."""
    servers = [StandIn(primary), StandIn(secondary)]
    for server in servers:
        await server.start()
    settings = make_settings(
        database_url,
        pusher_port=servers[0].port,
        **{**SECONDARY, "pusher_secondary_host": "127.0.0.1", "pusher_secondary_port": servers[1].port},
    )
    sessions = make_sessionmaker(engine)
    services = ProviderServices(
        settings, sessions, PusherService(settings), PusherService(settings.for_secondary()), ttl=0.05
    )
    metrics = ProviderMetrics()
    watch = ProviderWatch(services, sessions, metrics, rules=rules, probe_seconds=0.05)
    config = RelayConfig(base_delay=0.05, max_delay=0.2, sweep_seconds=0.1)
    relay = Relay(engine, services.service(Provider.PRIMARY), config, watch=watch)
    try:
        yield relay, services, metrics
    finally:
        await relay.aclose()
        await services.aclose()
        for server in servers:
            await server.close()


async def test_a_primary_that_stays_down_fails_over_and_everything_is_delivered_to_the_secondary(
    database_url: str,
) -> None:
    primary, secondary = FakeProvider(down=True), FakeProvider()
    rules = FailoverRules(failover_after=0.3, failback="auto", failback_after=60)
    async with migrated(database_url) as (engine, sessions):
        async with relay_with_providers(engine, database_url, primary, secondary, rules) as (
            relay,
            services,
            metrics,
        ):
            await emit_messages(sessions, CHANNEL, 5)
            await relay.start()
            await until(lambda: secondary.batches.seqs(CHANNEL) == [1, 2, 3, 4, 5])
            await emit_messages(sessions, CHANNEL, 2)
            await until(lambda: secondary.batches.seqs(CHANNEL) == [1, 2, 3, 4, 5, 6, 7])
        async with transaction(sessions) as session:
            active = await read_active(session, services.settings)
    assert (active.provider, active.epoch, active.changed_by) == (Provider.SECONDARY, 2, ChangedBy.AUTO)
    assert active.reason.startswith("primary circuit open for")
    assert secondary.notices == [
        {
            "name": "provider.changed",
            "channels": ["waxos-provider"],
            "data": '{"epoch":2,"provider":"secondary"}',
        }
    ]
    assert relay.provider is Provider.SECONDARY and relay.snapshot().provider == "secondary"
    assert relay.breakers[Provider.PRIMARY].failures > 0, "the primary's breaker state is kept, readable"
    registry = metrics.registry
    assert registry.get_sample_value("waxos_provider_active", {"provider": "secondary"}) == 1
    assert registry.get_sample_value("waxos_provider_epoch") == 2
    assert registry.get_sample_value("waxos_provider_switches_total", {"to": "secondary", "by": "auto"}) == 1
    assert registry.get_sample_value("waxos_provider_circuit_open", {"provider": "primary"}) == 1


async def test_a_switch_made_by_hand_is_followed_and_not_undone(database_url: str) -> None:
    primary, secondary = FakeProvider(), FakeProvider()
    rules = FailoverRules(failover_after=0.3, failback="auto", failback_after=0.2)
    async with migrated(database_url) as (engine, sessions):
        async with relay_with_providers(engine, database_url, primary, secondary, rules) as (
            relay,
            services,
            _metrics,
        ):
            await relay.start()
            await emit_messages(sessions, CHANNEL, 2)
            await until(lambda: primary.batches.seqs(CHANNEL) == [1, 2])
            # Marked too: a switch before the marking would (rightly) send them again to the secondary,
            # which test_events_sent_while_the_provider_switched_are_sent_again_to_the_new_provider covers.
            await until_delivered(sessions, 2)
            async with transaction(sessions) as session:
                await switch(
                    session,
                    services.settings,
                    Provider.SECONDARY,
                    seen_epoch=1,
                    by=ChangedBy.MANUAL,
                    reason="t",
                )
            await until(lambda: relay.provider is Provider.SECONDARY)
            await emit_messages(sessions, CHANNEL, 2)
            await until(lambda: secondary.batches.seqs(CHANNEL) == [3, 4])
            # The primary answers every probe, past the failback time: a manual choice stays.
            await until(lambda: primary.probes >= 10)
        async with transaction(sessions) as session:
            active = await read_active(session, services.settings)
    assert (active.provider, active.epoch) == (Provider.SECONDARY, 2)
    assert primary.batches.seqs(CHANNEL) == [1, 2]


async def test_a_relay_without_the_recorded_secondary_moves_clients_on_with_a_new_epoch(
    database_url: str,
) -> None:
    """A redeploy dropped the secondary while it was active. Clients on it compare epochs, and only a new
    one makes them reconnect: the first relay with the new settings records the primary under one new
    epoch, and announces it; later ticks change nothing."""
    async with migrated(database_url) as (engine, sessions):
        async with transaction(sessions) as session:
            await switch(
                session,
                make_settings(database_url, **SECONDARY),
                Provider.SECONDARY,
                seen_epoch=1,
                by=ChangedBy.MANUAL,
                reason="by hand",
            )
        primary = FakeProvider()
        server = StandIn(primary)
        await server.start()
        try:
            settings = make_settings(database_url, pusher_port=server.port)
            services = ProviderServices(settings, make_sessionmaker(engine), PusherService(settings), ttl=0)
            watch = ProviderWatch(services, sessions, ProviderMetrics(), probe_seconds=0.05)
            first = await watch.tick()
            second = await watch.tick()
            await services.aclose()
        finally:
            await server.close()
        async with transaction(sessions) as session:
            recorded = await read_active(session, settings)
    assert (first.provider, first.epoch, first.changed_by) == (Provider.PRIMARY, 3, ChangedBy.AUTO)
    assert second.epoch == 3 and not second.unconfigured_secondary
    assert (recorded.provider, recorded.epoch, recorded.unconfigured_secondary) == (
        Provider.PRIMARY,
        3,
        False,
    )
    assert {"epoch": 3, "provider": "primary"} in [json.loads(n["data"]) for n in primary.notices]


async def test_events_sent_while_the_provider_switched_are_sent_again_to_the_new_provider(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    primary, secondary = FakeProvider(), FakeProvider()
    rules = FailoverRules(failover_after=60, failback="manual", failback_after=600)

    async def switch_while_sending(request: Received) -> Reply:
        # The primary accepts the round's request, but a switch commits before the round marks it.
        async with transaction(sessions) as session:
            await switch(
                session, services.settings, Provider.SECONDARY, seen_epoch=1, by=ChangedBy.MANUAL, reason="t"
            )
        return Reply()

    primary.batches.script = [switch_while_sending]
    async with (
        migrated(database_url) as (engine, sessions),
        relay_with_providers(engine, database_url, primary, secondary, rules) as (relay, services, _metrics),
    ):
        await emit_messages(sessions, CHANNEL, 3)
        with caplog.at_level(logging.WARNING, logger="waxos"):
            await relay.start()
            await until(lambda: secondary.batches.seqs(CHANNEL) == [1, 2, 3], seconds=10)
            await until(lambda: relay.metrics.count(relay.metrics.delivered) == 3)
        rows = await log_rows(sessions)
    # Sent to the primary as it was being left, not marked; then sent to the secondary, and marked.
    assert primary.batches.seqs(CHANNEL) == [1, 2, 3]
    assert all(row.delivered_at is not None for row in rows) and len(rows) == 3
    warned = [r.getMessage() for r in caplog.records if "provider switched (epoch 1 to 2)" in r.getMessage()]
    assert len(warned) == 1 and "3 event(s) went to primary" in warned[0]
