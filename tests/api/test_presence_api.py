"""Staff presence per workspace: members with their online state from the webhook data, members only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from tests.support.accounts import Api, running_api
from waxos.auth.models import User
from waxos.db.engine import transaction
from waxos.webhooks.tables import StaffPresence


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with running_api(database_url) as api:
        yield api


def bearer(api: Api, user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.world.token(user)}"}


async def test_members_are_listed_online_first_with_when_they_changed(api: Api) -> None:
    world = api.world
    now = datetime.now(UTC)
    async with transaction(api.sessions) as session:
        session.add(
            StaffPresence(
                workspace_id=world.acme.id,
                user_id=world.acme_agent2.id,
                online=True,
                changed_ms=1,
                changed_at=now,
            )
        )
        session.add(
            StaffPresence(
                workspace_id=world.acme.id,
                user_id=world.acme_admin.id,
                online=False,
                changed_ms=1,
                changed_at=now,
            )
        )
        # Online in Globex says nothing about Acme.
        session.add(
            StaffPresence(
                workspace_id=world.globex.id,
                user_id=world.globex_admin.id,
                online=True,
                changed_ms=1,
                changed_at=now,
            )
        )
    answer = await api.client.get(
        f"/api/v1/workspaces/{world.acme.id}/presence", headers=bearer(api, world.acme_agent)
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["online"] == 1
    members = [(m["name"], m["online"], m["since"] is not None) for m in body["members"]]
    assert members == [("Grace Agent", True, True), ("Ada Admin", False, True), ("Alan Agent", False, False)]


async def test_presence_is_for_members_only(api: Api) -> None:
    world = api.world
    path = f"/api/v1/workspaces/{world.acme.id}/presence"
    assert (await api.client.get(path)).status_code == 401
    for user in (world.globex_admin, world.loner):
        answer = await api.client.get(path, headers=bearer(api, user))
        assert (answer.status_code, answer.json()["code"]) == (404, "not_found")
