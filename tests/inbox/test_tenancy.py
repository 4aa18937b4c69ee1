"""Another workspace's ids answer exactly like ids that do not exist (404), and change nothing."""

from __future__ import annotations

from sqlalchemy import delete

from tests.inbox.helpers import SERVICE_TOKEN, open_chat, send
from tests.support.accounts import Api
from tests.support.inbox import EventLog, bearer
from waxos.auth.models import User
from waxos.db.engine import transaction

MISSING = 987_654_321


async def test_every_inbox_route_answers_other_tenants_ids_as_missing_and_changes_nothing(
    api: Api, log: EventLog
) -> None:
    world = api.world
    chat = await open_chat(api)
    message = (await send(api, chat["id"], "Hello", "inbound")).json()
    suggestion = (
        await api.client.post(
            f"/api/v1/chats/{chat['id']}/suggestions",
            json={"body": "Hi!"},
            headers={"Authorization": f"Bearer {SERVICE_TOKEN}"},
        )
    ).json()
    notification = (
        await api.client.post(
            f"/api/v1/workspaces/{world.acme.id}/notifications",
            json={"level": "info", "code": "hello"},
            headers=bearer(api, world.acme_admin),
        )
    ).json()
    invitation = (
        await api.client.post(
            f"/api/v1/workspaces/{world.acme.id}/members",
            json={"email": "someone@else.test", "role": "agent"},
            headers=bearer(api, world.acme_admin),
        )
    ).json()
    ids = {
        "w": world.acme.id,
        "i": invitation["invitation_id"],
        "c": chat["id"],
        "m": message["id"],
        "s": suggestion["id"],
        "n": notification["id"],
        "u": world.acme_agent.id,
    }
    routes = [
        ("GET", "/api/v1/workspaces/{w}/chats", None),
        ("POST", "/api/v1/workspaces/{w}/chats", {"customer": {"name": "A", "handle": "b"}}),
        ("GET", "/api/v1/chats/{c}", None),
        ("PATCH", "/api/v1/chats/{c}", {"status": "closed"}),
        ("PUT", "/api/v1/chats/{c}/assignee", {"user_id": world.acme_agent.id}),
        ("DELETE", "/api/v1/chats/{c}/assignee", None),
        ("GET", "/api/v1/chats/{c}/messages", None),
        ("POST", "/api/v1/chats/{c}/messages", {"body": "x", "direction": "outbound"}),
        ("POST", "/api/v1/chats/{c}/read", {"up_to_message_id": message["id"]}),
        ("GET", "/api/v1/messages/{m}", None),
        ("PATCH", "/api/v1/messages/{m}", {"status": "read"}),
        ("DELETE", "/api/v1/messages/{m}", None),
        ("GET", "/api/v1/chats/{c}/suggestions", None),
        ("POST", "/api/v1/chats/{c}/suggestions", {"body": "x"}),
        ("GET", "/api/v1/suggestions/{s}", None),
        ("POST", "/api/v1/suggestions/{s}/accept", None),
        ("POST", "/api/v1/suggestions/{s}/discard", None),
        ("GET", "/api/v1/workspaces/{w}/notifications", None),
        ("POST", "/api/v1/workspaces/{w}/notifications", {"level": "info", "code": "x"}),
        ("GET", "/api/v1/notifications/{n}", None),
        ("GET", "/api/v1/workspaces/{w}/members", None),
        ("POST", "/api/v1/workspaces/{w}/members", {"email": "loner@nowhere.test", "role": "agent"}),
        ("PATCH", "/api/v1/workspaces/{w}/members/{u}", {"role": "admin"}),
        ("DELETE", "/api/v1/workspaces/{w}/members/{u}", None),
        ("GET", "/api/v1/workspaces/{w}/invitations", None),
        ("DELETE", "/api/v1/workspaces/{w}/invitations/{i}", None),
        ("POST", "/api/v1/invitations/{i}/accept", None),
        ("POST", "/api/v1/invitations/{i}/decline", None),
    ]
    await log.new()
    for outsider in (world.globex_admin, world.loner):
        headers = bearer(api, outsider)
        for method, template, body in routes:
            theirs = await api.client.request(method, template.format(**ids), json=body, headers=headers)
            missing = await api.client.request(
                method, template.format(**dict.fromkeys(ids, MISSING)), json=body, headers=headers
            )
            where = f"{outsider.email} {method} {template}"
            assert theirs.status_code == 404, (where, theirs.text)
            assert (theirs.status_code, theirs.json()) == (missing.status_code, missing.json()), where
    assert await log.new() == []
    owner = bearer(api, world.acme_agent)
    assert (await api.client.get(f"/api/v1/messages/{message['id']}", headers=owner)).json() == message
    assert (await api.client.get(f"/api/v1/chats/{chat['id']}", headers=owner)).json() == chat


async def test_a_deleted_users_token_is_401_on_inbox_routes(api: Api, log: EventLog) -> None:
    world = api.world
    chat = await open_chat(api)
    headers = bearer(api, world.acme_agent2)
    async with transaction(api.sessions) as session:
        await session.execute(delete(User).where(User.id == world.acme_agent2.id))
    await log.new()
    for method, path in (
        ("GET", f"/api/v1/chats/{chat['id']}"),
        ("PATCH", f"/api/v1/chats/{chat['id']}"),
        ("GET", f"/api/v1/workspaces/{world.acme.id}/chats"),
    ):
        response = await api.client.request(method, path, json={"status": "closed"}, headers=headers)
        assert response.status_code == 401, (method, path, response.text)
    assert (await send(api, chat["id"], user=world.acme_agent2)).status_code == 401
    assert await log.new() == []
