"""The operations API: the relay's state for operators only, usage for operators and workspace admins."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.support.accounts import Api, running_api
from tests.support.events import emit_messages
from waxos.auth.models import User
from waxos.db.engine import transaction
from waxos.relay import status
from waxos.relay.status import RelaySnapshot
from waxos.usage.rollup import roll_up


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with running_api(database_url, waxos_plan_max_connections=40) as api:
        yield api


def bearer(api: Api, user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.world.token(user)}"}


async def test_the_relay_report_is_refused_to_anyone_but_operators(api: Api) -> None:
    assert (await api.client.get("/api/v1/ops/relay")).status_code == 401
    for user in (api.world.acme_admin, api.world.acme_agent, api.world.loner):
        answer = await api.client.get("/api/v1/ops/relay", headers=bearer(api, user))
        assert (answer.status_code, answer.json()["code"]) == (403, "forbidden")


async def test_usage_is_refused_to_agents_and_to_admins_of_other_workspaces(api: Api) -> None:
    world = api.world
    agent = await api.client.get("/api/v1/ops/usage", headers=bearer(api, world.acme_agent))
    assert agent.status_code == 403
    other = await api.client.get(
        "/api/v1/ops/usage", params={"workspace_id": world.acme.id}, headers=bearer(api, world.globex_admin)
    )
    assert other.status_code == 404


async def test_an_admin_sees_their_workspaces_usage_against_the_plan(api: Api) -> None:
    world = api.world
    await emit_messages(api.sessions, f"private-workspace-{world.acme.id}.chats", 3)
    await emit_messages(api.sessions, f"private-workspace-{world.globex.id}.chats", 2)
    async with transaction(api.sessions) as session:
        await roll_up(session, [datetime.now(UTC)], {})
    answer = await api.client.get("/api/v1/ops/usage", headers=bearer(api, world.acme_admin))
    assert answer.status_code == 200, answer.text
    usage = answer.json()
    assert usage["scope"] == "workspaces"
    assert usage["limits"] == {"max_connections": 40, "max_messages_per_day": 1_000_000, "warn_ratio": 0.8}
    assert [w["name"] for w in usage["workspaces"]] == ["Acme"]  # not Globex's
    assert usage["today"]["events"] == 3 and usage["today"]["chat_messages"] == 3
    assert usage["workspaces"][0]["today"]["events"] == 3
    assert len(usage["hourly"]) == 24 and len(usage["daily"]) == 30
    assert usage["hourly"][-1]["usage"]["events"] == 3
    assert usage["daily"][-1]["usage"]["events"] == 3
    assert sum(point["usage"]["events"] for point in usage["hourly"][:-1]) == 0


async def test_an_operator_sees_every_relay_and_the_latest_events(api: Api) -> None:
    world = api.world
    await emit_messages(api.sessions, f"private-workspace-{world.acme.id}.chats", 2)
    now = datetime.now(UTC)
    async with transaction(api.sessions) as session:
        snapshot = RelaySnapshot(
            "relay-a", "primary", "127.0.0.1:1", now, "open", 2, now, 7, 1, {"timeout": 2}
        )
        await status.report(session, snapshot, now)
        operator = await session.scalar(select(User).where(User.email == "operator@waxos.test"))
    assert operator is not None
    answer = await api.client.get("/api/v1/ops/relay", headers=bearer(api, operator))
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["backlog"] == 2 and report["oldest_undelivered_seconds"] >= 0
    (relay,) = report["relays"]
    assert (relay["owner"], relay["breaker"], relay["silent"]) == ("relay-a", "open", False)
    assert report["failures_by_kind"] == {"timeout": 2}
    assert [(e["seq"], e["delivered_at"]) for e in report["recent"]] == [(2, None), (1, None)]


async def test_an_operator_sees_every_workspace_and_user_channels_in_the_totals(api: Api) -> None:
    world = api.world
    await emit_messages(api.sessions, f"private-workspace-{world.acme.id}.chats", 3)
    await emit_messages(api.sessions, f"private-workspace-{world.globex.id}.chats", 2)
    await emit_messages(api.sessions, f"private-user-{world.acme_agent.id}", 1)
    async with transaction(api.sessions) as session:
        await roll_up(session, [datetime.now(UTC)], {})
        operator = await session.scalar(select(User).where(User.email == "operator@waxos.test"))
    assert operator is not None
    usage = (await api.client.get("/api/v1/ops/usage", headers=bearer(api, operator))).json()
    assert usage["scope"] == "all"
    assert {w["name"]: w["today"]["events"] for w in usage["workspaces"]} == {"Acme": 3, "Globex": 2}
    assert usage["today"]["events"] == 6  # the user channel's event counts towards the account
    one = await api.client.get(
        "/api/v1/ops/usage", params={"workspace_id": world.globex.id}, headers=bearer(api, operator)
    )
    assert [w["name"] for w in one.json()["workspaces"]] == ["Globex"]
