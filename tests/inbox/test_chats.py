"""Chats through the HTTP API: open, list with a cursor, read, close and reopen, assign and unassign."""

from __future__ import annotations

from tests.inbox.helpers import open_chat
from tests.support.accounts import Api
from tests.support.inbox import EventLog, bearer
from waxos.channels.names import chats_channel, user_channel

CUSTOMER = {"customer": {"name": "Cleo Customer", "handle": "+15550100"}}


async def test_opening_a_chat_answers_the_contract_shape_and_emits_chat_new(api: Api, log: EventLog) -> None:
    world = api.world
    response = await api.client.post(
        f"/api/v1/workspaces/{world.acme.id}/chats", json=CUSTOMER, headers=bearer(api, world.acme_agent)
    )
    assert response.status_code == 201, response.text
    chat = response.json()
    assert set(chat) == {
        "id",
        "workspace_id",
        "customer",
        "status",
        "assignee_id",
        "created_at",
        "updated_at",
    }
    assert (chat["workspace_id"], chat["customer"], chat["status"], chat["assignee_id"]) == (
        world.acme.id,
        CUSTOMER["customer"],
        "open",
        None,
    )
    (event,) = await log.new()
    assert (event.channel, event.type) == (chats_channel(world.acme.id), "chat.new")
    assert event.data == {"chat_id": chat["id"], "status": "open", "created_by_id": world.acme_agent.id}

    got = await api.client.get(f"/api/v1/chats/{chat['id']}", headers=bearer(api, world.acme_agent2))
    assert got.status_code == 200 and got.json() == chat


async def test_the_chat_list_pages_newest_first_with_an_opaque_cursor_and_filters(api: Api) -> None:
    world = api.world
    ids = [(await open_chat(api, name=f"Customer {n}"))["id"] for n in range(5)]
    headers = bearer(api, world.acme_admin)
    url = f"/api/v1/workspaces/{world.acme.id}/chats"
    first = (await api.client.get(url, params={"limit": 2}, headers=headers)).json()
    second = (
        await api.client.get(url, params={"limit": 2, "cursor": first["next_cursor"]}, headers=headers)
    ).json()
    third = (
        await api.client.get(url, params={"limit": 2, "cursor": second["next_cursor"]}, headers=headers)
    ).json()
    pages = [[chat["id"] for chat in page["items"]] for page in (first, second, third)]
    assert pages == [ids[:-3:-1], ids[-3:-5:-1], [ids[0]]]
    assert third["next_cursor"] is None

    await api.client.patch(f"/api/v1/chats/{ids[1]}", json={"status": "closed"}, headers=headers)
    await api.client.put(
        f"/api/v1/chats/{ids[2]}/assignee", json={"user_id": world.acme_agent.id}, headers=headers
    )
    closed = (await api.client.get(url, params={"status": "closed"}, headers=headers)).json()
    assigned = (
        await api.client.get(url, params={"assignee_id": world.acme_agent.id}, headers=headers)
    ).json()
    assert [c["id"] for c in closed["items"]] == [ids[1]]
    assert [c["id"] for c in assigned["items"]] == [ids[2]]

    for bad in ("not-a-cursor", "eyJ4IjoxfQ", "eyJiZWZvcmUiOiJ4In0"):
        response = await api.client.get(url, params={"cursor": bad}, headers=headers)
        assert response.status_code == 422 and response.json()["code"] == "invalid_cursor", response.text


async def test_closing_and_reopening_emit_chat_status_and_a_repeat_is_409_with_nothing_emitted(
    api: Api, log: EventLog
) -> None:
    world = api.world
    chat = await open_chat(api)
    await log.new()
    headers = bearer(api, world.acme_agent2)
    closed = await api.client.patch(f"/api/v1/chats/{chat['id']}", json={"status": "closed"}, headers=headers)
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    (event,) = await log.new()
    assert (event.type, event.data) == (
        "chat.status",
        {
            "chat_id": chat["id"],
            "status": "closed",
            "previous_status": "open",
            "changed_by_id": world.acme_agent2.id,
        },
    )
    again = await api.client.patch(f"/api/v1/chats/{chat['id']}", json={"status": "closed"}, headers=headers)
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition", again.text
    assert await log.new() == []
    reopened = await api.client.patch(f"/api/v1/chats/{chat['id']}", json={"status": "open"}, headers=headers)
    assert reopened.json()["status"] == "open"
    assert [e.data["status"] for e in await log.new()] == ["open"]
    invalid = await api.client.patch(
        f"/api/v1/chats/{chat['id']}", json={"status": "archived"}, headers=headers
    )
    assert invalid.status_code == 422


async def test_assignment_reaches_the_workspace_and_both_assignees_and_only_members_may_be_assigned(
    api: Api, log: EventLog
) -> None:
    world = api.world
    chat = await open_chat(api)
    await log.new()
    url = f"/api/v1/chats/{chat['id']}/assignee"
    headers = bearer(api, world.acme_admin)
    first = await api.client.put(url, json={"user_id": world.acme_agent.id}, headers=headers)
    assert first.status_code == 200 and first.json()["assignee_id"] == world.acme_agent.id
    assigned = await log.new()
    assert sorted(e.channel for e in assigned) == sorted(
        [chats_channel(world.acme.id), user_channel(world.acme_agent.id)]
    )
    assert {e.type for e in assigned} == {"chat.assigned"}
    assert assigned[0].data == {
        "chat_id": chat["id"],
        "assignee_id": world.acme_agent.id,
        "previous_assignee_id": None,
        "assigned_by_id": world.acme_admin.id,
    }

    await api.client.put(url, json={"user_id": world.acme_agent2.id}, headers=headers)
    moved = await log.new()
    assert sorted(e.channel for e in moved) == sorted(
        [chats_channel(world.acme.id), user_channel(world.acme_agent.id), user_channel(world.acme_agent2.id)]
    )
    assert moved[0].data["previous_assignee_id"] == world.acme_agent.id

    same = await api.client.put(url, json={"user_id": world.acme_agent2.id}, headers=headers)
    assert same.status_code == 200 and await log.new() == []

    for outsider in (world.globex_admin, world.loner):
        refused = await api.client.put(url, json={"user_id": outsider.id}, headers=headers)
        assert refused.status_code == 422 and refused.json()["code"] == "not_a_member", refused.text
    unknown = await api.client.put(url, json={"user_id": 999_999}, headers=headers)
    assert unknown.status_code == 422
    assert await log.new() == []
    assert (await api.client.get(f"/api/v1/chats/{chat['id']}", headers=headers)).json()["assignee_id"] == (
        world.acme_agent2.id
    )

    unassigned = await api.client.delete(url, headers=headers)
    assert unassigned.status_code == 200 and unassigned.json()["assignee_id"] is None
    events = await log.new()
    assert sorted(e.channel for e in events) == sorted(
        [chats_channel(world.acme.id), user_channel(world.acme_agent2.id)]
    )
    assert (
        events[0].type == "chat.unassigned" and events[0].data["previous_assignee_id"] == world.acme_agent2.id
    )
    again = await api.client.delete(url, headers=headers)
    assert again.status_code == 200 and await log.new() == []
