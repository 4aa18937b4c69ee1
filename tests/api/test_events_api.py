"""The catalogue endpoint, and test events sent by workspace admins through the log."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from tests.support.accounts import Api, running_api
from waxos.auth.models import User
from waxos.events import CATALOGUE
from waxos.events.tables import LoggedEvent


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with running_api(database_url) as api:
        yield api


def bearer(api: Api, user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.world.token(user)}"}


async def logged(api: Api) -> int:
    async with api.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(LoggedEvent)) or 0)


async def test_the_catalogue_lists_every_event_with_its_payload_schema(api: Api) -> None:
    assert (await api.client.get("/api/v1/events/catalogue")).status_code == 401
    answer = await api.client.get("/api/v1/events/catalogue", headers=bearer(api, api.world.acme_agent))
    assert answer.status_code == 200
    entries = {entry["type"]: entry for entry in answer.json()["events"]}
    assert set(entries) == set(CATALOGUE)
    new = entries["message.new"]
    assert new["description"] == "A message was added to a chat."
    schema = new["payload_schema"]
    assert "type" not in schema["properties"]
    assert schema["properties"]["direction"]["enum"] == ["inbound", "outbound"]
    assert set(schema["required"]) == {"chat_id", "message_id", "direction", "sender_type"}
    assert schema["additionalProperties"] is False


async def test_an_admin_sends_a_test_event_through_the_log(api: Api) -> None:
    world = api.world
    channel = f"private-workspace-{world.acme.id}.chats"
    body = {
        "channel": channel,
        "type": "message.new",
        "data": {"chat_id": 1, "message_id": 2, "direction": "inbound", "sender_type": "contact"},
    }
    answer = await api.client.post(
        f"/api/v1/workspaces/{world.acme.id}/test-events", json=body, headers=bearer(api, world.acme_admin)
    )
    assert answer.status_code == 201, answer.text
    envelope = answer.json()
    assert (envelope["channel"], envelope["seq"], envelope["type"]) == (channel, 1, "message.new")
    assert envelope["data"]["message_id"] == 2
    async with api.sessions() as session:
        row = await session.scalar(select(LoggedEvent))
    assert row is not None and row.id == envelope["id"] and row.delivered_at is None


@pytest.mark.parametrize(
    ("who", "workspace", "body", "status", "code"),
    [
        ("agent", "acme", {}, 403, "forbidden"),
        ("globex", "acme", {}, 404, "not_found"),
        ("admin", "acme", {"type": "message.exploded"}, 422, "unknown_event"),
        ("admin", "acme", {"data": {"chat_id": 0, "direction": "sideways"}}, 422, "invalid_event"),
        ("admin", "acme", {"channel": "private-workspace-{globex}.chats"}, 422, "invalid_channel"),
        ("admin", "acme", {"channel": "private-user-{admin}"}, 422, "invalid_channel"),
        ("admin", "acme", {"channel": "workspace-{acme}.chats"}, 422, "invalid_channel"),
        ("admin", "acme", {"channel": "private-workspace-{acme}.members"}, 422, "invalid_channel"),
        ("admin", "acme", {"channel": "private-workspace-{acme}.presence"}, 422, "invalid_channel"),
        ("admin", "acme", {"channel": "presence-workspace-{acme}"}, 422, "invalid_channel"),
        ("admin", "acme", {"channel": "private-encrypted-workspace-{acme}.chats"}, 422, "invalid_channel"),
        ("admin", "acme", {"channel": "private-workspace-{acme}.anything"}, 422, "invalid_channel"),
        ("admin", "acme", {"type": "member.removed", "data": {"user_id": "{admin}"}}, 422, "refused_event"),
        ("admin", "acme", {"type": "user.online", "data": {}}, 422, "refused_event"),
        ("admin", "acme", {"channel": "bad name!"}, 400, "invalid_name"),
    ],
)
async def test_bad_test_events_are_refused_and_log_nothing(
    api: Api, who: str, workspace: str, body: dict[str, object], status: int, code: str
) -> None:
    world = api.world
    users = {"agent": world.acme_agent, "admin": world.acme_admin, "globex": world.globex_admin}
    ids = {"acme": world.acme.id, "globex": world.globex.id, "admin": world.acme_admin.id}
    sent = {
        "channel": f"private-workspace-{world.acme.id}.chats",
        "type": "message.new",
        "data": {"chat_id": 1, "message_id": 2, "direction": "inbound", "sender_type": "contact"},
        **body,
    }
    sent["channel"] = str(sent["channel"]).format(**ids)
    answer = await api.client.post(
        f"/api/v1/workspaces/{ids[workspace]}/test-events", json=sent, headers=bearer(api, users[who])
    )
    assert (answer.status_code, answer.json()["code"]) == (status, code), answer.text
    assert await logged(api) == 0


async def test_field_problems_name_each_payload_field(api: Api) -> None:
    world = api.world
    answer = await api.client.post(
        f"/api/v1/workspaces/{world.acme.id}/test-events",
        json={
            "channel": f"private-workspace-{world.acme.id}.chats",
            "type": "message.new",
            "data": {"chat_id": 0, "message_id": 1, "direction": "sideways", "sender_type": "staff", "x": 1},
        },
        headers=bearer(api, world.acme_admin),
    )
    assert answer.status_code == 422
    assert {p["field"] for p in answer.json()["problems"]} == {"chat_id", "direction", "x"}
