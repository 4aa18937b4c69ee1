"""What the browser client calls: its configuration, multi-channel catch-up, CORS, and the served bundle."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from tests.support.accounts import running_api
from tests.support.events import emit_messages
from waxos.app import CLIENT_BUNDLE
from waxos.channels.names import private_workspace_channel, user_channel
from waxos.db.base import utcnow
from waxos.db.engine import transaction
from waxos.events.retention import prune
from waxos.events.tables import LoggedEvent
from waxos.providers.state import ChangedBy, Provider, switch

CONFIG = "/api/v1/realtime/config"
CATCH_UP = "/api/v1/realtime/catch-up"
SECONDARY = {
    "pusher_secondary_app_id": "200002",
    "pusher_secondary_key": "second-key",
    "pusher_secondary_secret": "second-secret",
    "pusher_secondary_host": "127.0.0.2",
    "pusher_secondary_port": 6002,
    "pusher_secondary_use_tls": False,
}


async def test_the_config_names_the_active_provider_and_never_a_secret(database_url: str) -> None:
    async with running_api(database_url, **SECONDARY) as api:
        assert (await api.client.get(CONFIG)).status_code == 401
        headers = {"Authorization": f"Bearer {api.world.token(api.world.acme_agent)}"}
        primary = (await api.client.get(CONFIG, headers=headers)).json()
        async with transaction(api.sessions) as session:
            settings = api.client._transport.app.state.settings  # type: ignore[attr-defined]
            await switch(session, settings, Provider.SECONDARY, seen_epoch=1, by=ChangedBy.MANUAL, reason="t")
        secondary = (await api.client.get(CONFIG, headers=headers)).json()
    assert primary == {
        "provider": "primary",
        "epoch": 1,
        "key": "test-key",
        "cluster": "local",
        "ws_host": "127.0.0.1",
        "ws_port": primary["ws_port"],
        "force_tls": False,
        "channel_auth_endpoint": "/api/v1/pusher/auth",
        "user_auth_endpoint": "/api/v1/pusher/user-auth",
        "catch_up_endpoint": CATCH_UP,
        "notice_channel": "waxos-provider",
        "user_id": api.world.acme_agent.id,
    }
    assert (secondary["provider"], secondary["epoch"], secondary["key"]) == ("secondary", 2, "second-key")
    assert (secondary["ws_host"], secondary["ws_port"]) == ("127.0.0.2", 6002)
    assert "second-secret" not in str(secondary) and "secret" not in str(primary).replace("_", "")


async def test_one_request_catches_up_several_channels_each_answered_on_its_own(database_url: str) -> None:
    async with running_api(database_url) as api:
        world = api.world
        chats = private_workspace_channel(world.acme.id, "chats")
        mine = user_channel(world.acme_agent.id)
        foreign = private_workspace_channel(world.globex.id, "chats")
        quiet = private_workspace_channel(world.acme.id, "notifications")
        await emit_messages(api.sessions, chats, 5)
        await emit_messages(api.sessions, mine, 2)
        await emit_messages(api.sessions, foreign, 1)
        headers = {"Authorization": f"Bearer {world.token(world.acme_agent)}"}
        body = {"positions": {chats: 1, mine: 0, foreign: 0, quiet: 0}, "limit": 3}
        answer = await api.client.post(CATCH_UP, json=body, headers=headers)
        ahead = await api.client.post(CATCH_UP, json={"positions": {chats: 9}}, headers=headers)
        no_token = await api.client.post(CATCH_UP, json=body)
    assert answer.status_code == 200 and answer.headers["x-realtime-epoch"] == "1"
    channels = answer.json()["channels"]
    assert answer.json()["epoch"] == 1
    assert list(channels) == [chats, mine, foreign, quiet]
    assert [e["seq"] for e in channels[chats]["events"]] == [2, 3, 4]
    assert (channels[chats]["status"], channels[chats]["next_after"], channels[chats]["head"]) == ("ok", 4, 5)
    assert [e["seq"] for e in channels[mine]["events"]] == [1, 2]
    assert channels[foreign] == {"status": "denied", "reason": "not a member of this workspace"}
    assert channels[quiet] | {"channel": quiet} == {
        "channel": quiet,
        "status": "ok",
        "events": [],
        "next_after": 0,
        "head": 0,
    }
    assert ahead.json()["channels"][chats] == {
        "status": "resync_required",
        "reason": "ahead_of_head",
        "head": 5,
    }
    assert no_token.status_code == 401


async def test_a_pruned_position_answers_resync_required_for_that_channel(database_url: str) -> None:
    async with running_api(database_url) as api:
        chats = private_workspace_channel(api.world.acme.id, "chats")
        await emit_messages(api.sessions, chats, 4)
        async with transaction(api.sessions) as session:
            await session.execute(
                update(LoggedEvent)
                .where(LoggedEvent.seq <= 2)
                .values(occurred_at=utcnow() - timedelta(hours=100), delivered_at=utcnow())
            )
        await prune(api.sessions, timedelta(hours=72), utcnow())
        headers = {"Authorization": f"Bearer {api.world.token(api.world.acme_agent)}"}
        answer = await api.client.post(CATCH_UP, json={"positions": {chats: 1}}, headers=headers)
    assert answer.json()["channels"][chats] == {"status": "resync_required", "reason": "too_old", "head": 4}


async def test_the_whole_answer_holds_at_most_1000_events(database_url: str) -> None:
    async with running_api(database_url) as api:
        world = api.world
        first = private_workspace_channel(world.acme.id, "chats")
        second = user_channel(world.acme_agent.id)
        await emit_messages(api.sessions, first, 1000)
        await emit_messages(api.sessions, second, 3)
        headers = {"Authorization": f"Bearer {world.token(world.acme_agent)}"}
        body = {"positions": {first: 0, second: 0}, "limit": 1000}
        channels = (await api.client.post(CATCH_UP, json=body, headers=headers)).json()["channels"]
    assert len(channels[first]["events"]) == 1000
    assert channels[second] | {"channel": ""} == {
        "channel": "",
        "status": "ok",
        "events": [],
        "next_after": 0,
        "head": 3,
    }


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"positions": {"private-workspace-1.chats": -1}}, 422),
        ({"positions": {}}, 422),
        ({"positions": {f"private-user-{n}": 0 for n in range(101)}}, 422),
        ({"positions": {"private-workspace-1.chats": 0}, "limit": 0}, 422),
        ({"positions": {"no spaces allowed": 0}}, 400),
        ({"channels": ["private-workspace-1.chats"]}, 422),
    ],
)
async def test_malformed_catch_up_requests_are_refused(database_url: str, body: object, status: int) -> None:
    async with running_api(database_url) as api:
        headers = {"Authorization": f"Bearer {api.world.token(api.world.acme_agent)}"}
        answer = await api.client.post(CATCH_UP, json=body, headers=headers)
    assert answer.status_code == status, answer.text


async def test_cors_answers_listed_origins_only(database_url: str) -> None:
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization,content-type,x-socket-id",
    }
    async with running_api(database_url, waxos_cors_origins="http://app.test:3000") as api:
        allowed = await api.client.options(
            "/api/v1/pusher/auth", headers={"Origin": "http://app.test:3000", **preflight}
        )
        refused = await api.client.options(
            "/api/v1/pusher/auth", headers={"Origin": "http://evil.test", **preflight}
        )
        headers = {"Authorization": f"Bearer {api.world.token(api.world.acme_agent)}"}
        simple = await api.client.get(CONFIG, headers={"Origin": "http://app.test:3000", **headers})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "http://app.test:3000"
    assert {h.strip().lower() for h in allowed.headers["access-control-allow-headers"].split(",")} >= {
        "authorization",
        "content-type",
        "x-socket-id",
    }
    assert allowed.headers["access-control-max-age"] == "7200"
    assert "access-control-allow-origin" not in refused.headers
    assert simple.headers["access-control-allow-origin"] == "http://app.test:3000"
    assert {"retry-after", "x-realtime-epoch"} <= {
        h.strip().lower() for h in simple.headers["access-control-expose-headers"].split(",")
    }


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
async def test_cors_lets_a_listed_origin_edit_the_inbox(database_url: str, method: str) -> None:
    """The inbox's edit routes (assign, close, edit or delete a message) pass the browser's preflight."""
    async with running_api(database_url, waxos_cors_origins="http://app.test:3000") as api:
        answer = await api.client.options(
            "/api/v1/chats/1/messages/1",
            headers={
                "Origin": "http://app.test:3000",
                "Access-Control-Request-Method": method,
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )
    assert answer.status_code == 200, answer.text
    assert answer.headers["access-control-allow-origin"] == "http://app.test:3000"
    assert method in {m.strip() for m in answer.headers["access-control-allow-methods"].split(",")}


async def test_without_listed_origins_there_is_no_cors(database_url: str) -> None:
    async with running_api(database_url) as api:
        answer = await api.client.options(
            CONFIG, headers={"Origin": "http://app.test:3000", "Access-Control-Request-Method": "GET"}
        )
    assert "access-control-allow-origin" not in answer.headers


async def test_waxos_serve_serves_the_client_bundle(database_url: str) -> None:
    if not CLIENT_BUNDLE.is_file():
        pytest.skip("the bundle is built by scripts/setup (npm run build)")
    async with running_api(database_url) as api:
        answer = await api.client.get("/static/waxos-realtime.js")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/javascript")
    assert answer.content == CLIENT_BUNDLE.read_bytes()
    assert b"export{" in answer.content.replace(b" ", b"")
