"""Members: list, change role, remove or leave; a workspace always keeps an admin; removal ends access to
the workspace's channels at once. Joining is by invitation: test_invitations.py."""

from __future__ import annotations

from tests.inbox.helpers import open_chat, terminations
from tests.support.accounts import Api
from tests.support.inbox import EventLog, bearer
from waxos.channels.names import chats_channel, members_channel, user_channel


async def test_members_are_listed_by_user_id_in_pages(api: Api) -> None:
    world = api.world
    url = f"/api/v1/workspaces/{world.acme.id}/members"
    listed = (await api.client.get(url, headers=bearer(api, world.acme_agent))).json()
    assert [(m["email"], m["role"]) for m in listed["items"]] == [
        ("admin@acme.test", "admin"),
        ("agent@acme.test", "agent"),
        ("agent2@acme.test", "agent"),
    ]
    page = (await api.client.get(url, params={"limit": 2}, headers=bearer(api, world.acme_agent))).json()
    rest = (
        await api.client.get(
            url, params={"cursor": page["next_cursor"]}, headers=bearer(api, world.acme_agent)
        )
    ).json()
    assert len(page["items"]) == 2 and len(rest["items"]) == 1 and rest["next_cursor"] is None


async def test_roles_change_but_the_last_admin_stays(api: Api, log: EventLog) -> None:
    world = api.world
    url = f"/api/v1/workspaces/{world.acme.id}/members"
    admin = bearer(api, world.acme_admin)
    last = await api.client.patch(f"{url}/{world.acme_admin.id}", json={"role": "agent"}, headers=admin)
    assert last.status_code == 409 and last.json()["code"] == "last_admin"
    leaving = await api.client.delete(f"{url}/{world.acme_admin.id}", headers=admin)
    assert leaving.status_code == 409 and leaving.json()["code"] == "last_admin"
    promoted = await api.client.patch(f"{url}/{world.acme_agent.id}", json={"role": "admin"}, headers=admin)
    assert promoted.status_code == 200 and promoted.json()["role"] == "admin"
    (event, _) = await log.new()
    assert (event.type, event.data) == (
        "member.role_changed",
        {
            "user_id": world.acme_agent.id,
            "role": "admin",
            "previous_role": "agent",
            "changed_by_id": world.acme_admin.id,
        },
    )
    same = await api.client.patch(f"{url}/{world.acme_agent.id}", json={"role": "admin"}, headers=admin)
    assert same.status_code == 200 and await log.new() == []
    demoted = await api.client.patch(f"{url}/{world.acme_admin.id}", json={"role": "agent"}, headers=admin)
    assert demoted.status_code == 200
    not_admin = await api.client.patch(f"{url}/{world.acme_agent2.id}", json={"role": "admin"}, headers=admin)
    assert not_admin.status_code == 403
    missing = await api.client.patch(
        f"{url}/{world.globex_admin.id}", json={"role": "agent"}, headers=bearer(api, world.acme_agent)
    )
    assert missing.status_code == 404 and missing.json()["code"] == "member_not_found"


async def test_a_removed_member_loses_the_workspace_at_once(api: Api, log: EventLog) -> None:
    world = api.world
    chat = await open_chat(api)
    admin = bearer(api, world.acme_admin)
    await api.client.put(
        f"/api/v1/chats/{chat['id']}/assignee", json={"user_id": world.acme_agent2.id}, headers=admin
    )
    channel = chats_channel(world.acme.id)
    removed_headers = bearer(api, world.acme_agent2)
    before = await api.client.post(
        "/api/v1/pusher/auth", data={"socket_id": "1.2", "channel_name": channel}, headers=removed_headers
    )
    assert before.status_code == 200
    await log.new()

    removed = await api.client.delete(
        f"/api/v1/workspaces/{world.acme.id}/members/{world.acme_agent2.id}", headers=admin
    )
    assert removed.status_code == 204, removed.text
    assert sorted((e.channel, e.type) for e in await log.new()) == sorted(
        [
            (channel, "chat.unassigned"),
            (user_channel(world.acme_agent2.id), "chat.unassigned"),
            (members_channel(world.acme.id), "member.removed"),
            (user_channel(world.acme_agent2.id), "member.removed"),
        ]
    )
    assert await terminations(api) == [world.acme_agent2.id], "their live connections are to be closed"
    subscribe = await api.client.post(
        "/api/v1/pusher/auth", data={"socket_id": "1.2", "channel_name": channel}, headers=removed_headers
    )
    catch_up = await api.client.get(
        "/api/v1/realtime/events", params={"channel": channel, "after": 0}, headers=removed_headers
    )
    read = await api.client.get(f"/api/v1/chats/{chat['id']}", headers=removed_headers)
    assert (subscribe.status_code, catch_up.status_code, read.status_code) == (403, 403, 404)
    assert (await api.client.get(f"/api/v1/chats/{chat['id']}", headers=admin)).json()["assignee_id"] is None
    own_channel = await api.client.post(
        "/api/v1/pusher/auth",
        data={"socket_id": "1.2", "channel_name": user_channel(world.acme_agent2.id)},
        headers=removed_headers,
    )
    assert own_channel.status_code == 200, "their own channel stays theirs"

    left = await api.client.delete(
        f"/api/v1/workspaces/{world.acme.id}/members/{world.acme_agent.id}",
        headers=bearer(api, world.acme_agent),
    )
    assert left.status_code == 204
    other = await api.client.delete(
        f"/api/v1/workspaces/{world.globex.id}/members/{world.globex_admin.id}", headers=admin
    )
    assert other.status_code == 404


async def test_an_operator_deletes_a_user_whose_memberships_end_as_removals_do(
    api: Api, log: EventLog
) -> None:
    world = api.world
    await log.new()
    refused = await api.client.delete(
        f"/api/v1/users/{world.acme_agent.id}", headers=bearer(api, world.acme_admin)
    )
    assert refused.status_code == 403
    myself = await api.client.delete(
        f"/api/v1/users/{world.operator.id}", headers=bearer(api, world.operator)
    )
    assert myself.status_code == 409
    deleted = await api.client.delete(
        f"/api/v1/users/{world.acme_agent.id}", headers=bearer(api, world.operator)
    )
    assert deleted.status_code == 204, deleted.text
    assert sorted((e.channel, e.type) for e in await log.new()) == sorted(
        [
            (members_channel(world.acme.id), "member.removed"),
            (user_channel(world.acme_agent.id), "member.removed"),
        ]
    )
    me = await api.client.get("/api/v1/me", headers=bearer(api, world.acme_agent))
    assert me.status_code == 401
    assert await terminations(api) == [world.acme_agent.id]
    gone = await api.client.delete(
        f"/api/v1/users/{world.acme_agent.id}", headers=bearer(api, world.operator)
    )
    assert gone.status_code == 404
