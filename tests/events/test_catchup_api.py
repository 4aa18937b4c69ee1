"""GET /api/v1/realtime/events: the channel policy decides, pages are complete, 410 means resync."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import update

from tests.support.accounts import running_api
from tests.support.events import emit_messages
from waxos.channels.names import private_workspace_channel, user_channel
from waxos.db.base import utcnow
from waxos.db.engine import transaction
from waxos.events.retention import prune
from waxos.events.tables import LoggedEvent

URL = "/api/v1/realtime/events"


async def test_a_member_reads_pages_in_seq_order(database_url: str) -> None:
    async with running_api(database_url) as api:
        channel = private_workspace_channel(api.world.acme.id, "chats")
        envelopes = await emit_messages(api.sessions, channel, 7)
        headers = {"Authorization": f"Bearer {api.world.token(api.world.acme_agent)}"}
        first = await api.client.get(
            URL, params={"channel": channel, "after": 0, "limit": 4}, headers=headers
        )
        second = await api.client.get(URL, params={"channel": channel, "after": 4}, headers=headers)
    assert first.status_code == 200, first.text
    body = first.json()
    assert body["channel"] == channel and body["next_after"] == 4 and body["head"] == 7
    assert body["events"] == [envelope.model_dump(mode="json") for envelope in envelopes[:4]]
    assert [event["seq"] for event in second.json()["events"]] == [5, 6, 7]
    assert second.json()["next_after"] == 7


async def test_the_channel_policy_is_the_one_for_subscriptions(database_url: str) -> None:
    async with running_api(database_url) as api:
        world = api.world
        acme = private_workspace_channel(world.acme.id, "chats")
        await emit_messages(api.sessions, acme, 1)
        await emit_messages(api.sessions, user_channel(world.acme_agent.id), 1)

        async def status(user_token: str | None, channel: str) -> tuple[int, str | None]:
            headers = {"Authorization": f"Bearer {user_token}"} if user_token else {}
            response = await api.client.get(URL, params={"channel": channel, "after": 0}, headers=headers)
            return response.status_code, response.json().get("code")

        assert await status(world.token(world.acme_admin), acme) == (200, None)
        assert await status(world.token(world.globex_admin), acme) == (403, "channel_denied")
        assert await status(world.token(world.loner), acme) == (403, "channel_denied")
        assert await status(world.token(world.acme_agent), user_channel(world.acme_agent.id)) == (200, None)
        assert await status(world.token(world.acme_agent2), user_channel(world.acme_agent.id)) == (
            403,
            "channel_denied",
        )
        assert (await status(world.token(world.acme_admin), f"workspace-{world.acme.id}.chats"))[0] == 403
        assert await status(None, acme) == (401, "not_authenticated")
        assert (await status(world.token(world.acme_admin), "bad channel!"))[0] == 400


async def test_encrypted_channels_are_refused_when_encryption_is_disabled(database_url: str) -> None:
    # Without a master key the channel cannot be subscribed to; catch-up must not serve its events in
    # plaintext either (the relay cannot seal them, so they sit in the log as they were emitted).
    async with running_api(database_url, pusher_encryption_master_key_base64=None) as api:
        world = api.world
        channel = f"private-encrypted-workspace-{world.acme.id}.chats"
        await emit_messages(api.sessions, channel, 2)
        member = {"Authorization": f"Bearer {world.token(world.acme_agent)}"}
        outsider = {"Authorization": f"Bearer {world.token(world.globex_admin)}"}
        refused = await api.client.get(URL, params={"channel": channel, "after": 0}, headers=member)
        denied = await api.client.get(URL, params={"channel": channel, "after": 0}, headers=outsider)
        plain = private_workspace_channel(world.acme.id, "chats")
        many = await api.client.post(
            "/api/v1/realtime/catch-up", json={"positions": {channel: 0, plain: 0}}, headers=member
        )
    # The multi-channel catch-up answers each channel on its own: this one is denied, with the reason.
    assert many.status_code == 200
    assert many.json()["channels"][channel] == {
        "status": "denied",
        "reason": "encrypted channels are not enabled on this server",
    }
    assert many.json()["channels"][plain]["status"] == "ok"
    assert (refused.status_code, refused.json()["code"]) == (400, "encryption_disabled")
    assert "events" not in refused.json()
    # The policy answers first: a non-member learns nothing about the server's configuration.
    assert (denied.status_code, denied.json()["code"]) == (403, "channel_denied")


async def test_encrypted_channels_are_served_to_members_when_encryption_is_enabled(database_url: str) -> None:
    async with running_api(database_url) as api:
        channel = f"private-encrypted-workspace-{api.world.acme.id}.chats"
        await emit_messages(api.sessions, channel, 2)
        headers = {"Authorization": f"Bearer {api.world.token(api.world.acme_agent)}"}
        response = await api.client.get(URL, params={"channel": channel, "after": 0}, headers=headers)
    assert response.status_code == 200 and response.json()["head"] == 2


async def test_limits_and_positions_are_validated(database_url: str) -> None:
    async with running_api(database_url) as api:
        channel = private_workspace_channel(api.world.acme.id, "chats")
        headers = {"Authorization": f"Bearer {api.world.token(api.world.acme_agent)}"}
        for params in (
            {"channel": channel, "after": 0, "limit": 1001},
            {"channel": channel, "after": 0, "limit": 0},
            {"channel": channel, "after": -1},
            {"channel": channel},
        ):
            response = await api.client.get(URL, params=params, headers=headers)
            assert response.status_code == 422, params
            assert response.json()["code"] == "invalid_request"
        full = await api.client.get(
            URL, params={"channel": channel, "after": 0, "limit": 1000}, headers=headers
        )
    assert full.status_code == 200


async def test_an_expired_position_gets_410_resync_required_never_a_partial_page(database_url: str) -> None:
    async with running_api(database_url) as api:
        channel = private_workspace_channel(api.world.acme.id, "chats")
        await emit_messages(api.sessions, channel, 5)
        async with transaction(api.sessions) as session:
            await session.execute(
                update(LoggedEvent)
                .where(LoggedEvent.seq <= 2)
                .values(occurred_at=utcnow() - timedelta(hours=100), delivered_at=utcnow())
            )
        assert await prune(api.sessions, timedelta(hours=72), utcnow()) == 2
        headers = {"Authorization": f"Bearer {api.world.token(api.world.acme_agent)}"}
        stale = await api.client.get(URL, params={"channel": channel, "after": 1}, headers=headers)
        ahead = await api.client.get(URL, params={"channel": channel, "after": 9}, headers=headers)
        fine = await api.client.get(URL, params={"channel": channel, "after": 2}, headers=headers)
    assert stale.status_code == 410
    assert stale.json() | {"message": ""} == {
        "code": "resync_required",
        "reason": "too_old",
        "head": 5,
        "message": "",
        "epoch": 1,
    }
    assert stale.headers["x-realtime-epoch"] == "1"
    assert ahead.status_code == 410 and ahead.json()["reason"] == "ahead_of_head"
    assert [event["seq"] for event in fine.json()["events"]] == [3, 4, 5]
    assert fine.json()["epoch"] == 1 and fine.headers["x-realtime-epoch"] == "1"


async def test_the_endpoint_is_documented_in_openapi(database_url: str) -> None:
    async with running_api(database_url) as api:
        schema = (await api.client.get("/openapi.json")).json()
    operation = schema["paths"][URL]["get"]
    assert {"200", "403", "410"} <= set(operation["responses"])
    assert {p["name"] for p in operation["parameters"]} == {"channel", "after", "limit"}
