"""The active provider: one row all instances share, switched by compare-and-set, signed for by auth."""

from __future__ import annotations

import hashlib
import hmac

from tests.support.accounts import migrated, running_api
from tests.support.settings import make_settings
from waxos.channels.names import private_workspace_channel
from waxos.db.engine import transaction
from waxos.providers.registry import ProviderServices
from waxos.providers.state import ChangedBy, Provider, read_active, switch
from waxos.publisher.service import PusherService

SECONDARY = {
    "pusher_secondary_app_id": "200002",
    "pusher_secondary_key": "second-key",
    "pusher_secondary_secret": "second-secret",
    "pusher_secondary_host": "127.0.0.2",
    "pusher_secondary_port": 6002,
    "pusher_secondary_use_tls": False,
}


async def test_a_switch_bumps_the_epoch_once_however_many_decide_it(database_url: str) -> None:
    settings = make_settings(database_url, **SECONDARY)
    async with migrated(database_url) as (_engine, sessions):
        async with transaction(sessions) as session:
            first = await read_active(session, settings)
        assert (first.provider, first.epoch, first.changed_by) == (Provider.PRIMARY, 1, ChangedBy.INITIAL)
        async with transaction(sessions) as session:
            won = await switch(
                session, settings, Provider.SECONDARY, seen_epoch=1, by=ChangedBy.AUTO, reason="a"
            )
        async with transaction(sessions) as session:
            lost = await switch(
                session, settings, Provider.SECONDARY, seen_epoch=1, by=ChangedBy.AUTO, reason="b"
            )
        async with transaction(sessions) as session:
            now = await read_active(session, settings)
    assert won is not None and won.epoch == 2 and lost is None
    assert (now.provider, now.epoch, now.changed_by, now.reason) == (
        Provider.SECONDARY,
        2,
        ChangedBy.AUTO,
        "a",
    )


async def test_a_recorded_secondary_that_is_no_longer_configured_reads_as_the_primary(
    database_url: str,
) -> None:
    async with migrated(database_url) as (_engine, sessions):
        async with transaction(sessions) as session:
            await switch(
                session,
                make_settings(database_url, **SECONDARY),
                Provider.SECONDARY,
                seen_epoch=1,
                by=ChangedBy.MANUAL,
                reason="x",
            )
        async with transaction(sessions) as session:
            active = await read_active(session, make_settings(database_url))
    assert (active.provider, active.epoch, active.unconfigured_secondary) == (Provider.PRIMARY, 2, True)


async def test_the_registry_reads_the_database_at_most_once_per_ttl(database_url: str) -> None:
    settings = make_settings(database_url, **SECONDARY)
    now = [0.0]
    async with migrated(database_url) as (_engine, sessions):
        primary, secondary = PusherService(settings), PusherService(settings.for_secondary())
        services = ProviderServices(settings, sessions, primary, secondary, ttl=1.0, clock=lambda: now[0])
        try:
            assert (await services.active_service()) is primary
            async with transaction(sessions) as session:
                await switch(
                    session, settings, Provider.SECONDARY, seen_epoch=1, by=ChangedBy.AUTO, reason="t"
                )
            now[0] = 0.5
            assert (await services.active_service()) is primary, "cached for ttl"
            now[0] = 1.0
            assert (await services.active_service()) is secondary
            assert services.configured == (Provider.PRIMARY, Provider.SECONDARY)
            assert (
                services.for_key("second-key") is secondary
                and services.for_key(settings.pusher_key) is primary
            )
            assert services.for_key("someone-else") is None
        finally:
            await services.aclose()


async def test_channel_auth_signs_with_the_active_providers_key_and_secret(database_url: str) -> None:
    async with running_api(database_url, **SECONDARY) as api:
        channel = private_workspace_channel(api.world.acme.id, "chats")
        headers = {"Authorization": f"Bearer {api.world.token(api.world.acme_agent)}"}
        form = {"socket_id": "123.456", "channel_name": channel}
        before = (await api.client.post("/api/v1/pusher/auth", data=form, headers=headers)).json()
        settings = api.client._transport.app.state.settings  # type: ignore[attr-defined]
        async with transaction(api.sessions) as session:
            await switch(session, settings, Provider.SECONDARY, seen_epoch=1, by=ChangedBy.MANUAL, reason="t")
        api.client._transport.app.state.providers._read_at = float("-inf")  # type: ignore[attr-defined]
        after = (await api.client.post("/api/v1/pusher/auth", data=form, headers=headers)).json()
    expected = hmac.new(b"second-secret", f"123.456:{channel}".encode(), hashlib.sha256).hexdigest()
    assert before["auth"].startswith("test-key:")
    assert after["auth"] == f"second-key:{expected}"
