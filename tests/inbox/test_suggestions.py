"""AI suggestions: posted by the service token or an admin, heard by the assignee (else the admins)."""

from __future__ import annotations

from tests.inbox.helpers import SERVICE_TOKEN, open_chat
from tests.support.accounts import Api
from tests.support.inbox import EventLog, bearer
from waxos.channels.names import chats_channel, user_channel

SERVICE = {"Authorization": f"Bearer {SERVICE_TOKEN}"}


async def test_the_ai_service_posts_a_suggestion_that_reaches_the_admins_of_an_unassigned_chat(
    api: Api, log: EventLog
) -> None:
    world = api.world
    chat = await open_chat(api)
    await log.new()
    url = f"/api/v1/chats/{chat['id']}/suggestions"
    created = await api.client.post(url, json={"body": "Happy to help!"}, headers=SERVICE)
    assert created.status_code == 201, created.text
    suggestion = created.json()
    assert (suggestion["status"], suggestion["body"], suggestion["chat_id"]) == (
        "ready",
        "Happy to help!",
        chat["id"],
    )
    (event,) = await log.new()
    assert (event.channel, event.type, event.data) == (
        user_channel(world.acme_admin.id),
        "ai.suggestion_ready",
        {"chat_id": chat["id"], "suggestion_id": suggestion["id"], "message_id": None},
    )
    for headers, status in (
        ({"Authorization": "Bearer wxs_wrong-token"}, 401),
        (bearer(api, world.acme_agent), 403),
        ({}, 401),
    ):
        refused = await api.client.post(url, json={"body": "x"}, headers=headers)
        assert refused.status_code == status, refused.text
    assert await log.new() == []

    by_admin = await api.client.post(url, json={"body": "Newer idea"}, headers=bearer(api, world.acme_admin))
    assert by_admin.status_code == 201
    assert [(e.type, e.data["suggestion_id"]) for e in await log.new()] == [
        ("ai.suggestion_discarded", suggestion["id"]),
        ("ai.suggestion_ready", by_admin.json()["id"]),
    ]
    waiting = (await api.client.get(url, headers=bearer(api, world.acme_agent))).json()
    assert [s["id"] for s in waiting] == [by_admin.json()["id"]]
    old = (
        await api.client.get(f"/api/v1/suggestions/{suggestion['id']}", headers=bearer(api, world.acme_agent))
    ).json()
    assert old["status"] == "discarded"
    unknown_chat = await api.client.post(
        "/api/v1/chats/987654/suggestions", json={"body": "x"}, headers=SERVICE
    )
    assert unknown_chat.status_code == 404


async def test_accepting_sends_the_edited_text_as_the_accepting_users_message(
    api: Api, log: EventLog
) -> None:
    world = api.world
    chat = await open_chat(api)
    await api.client.put(
        f"/api/v1/chats/{chat['id']}/assignee",
        json={"user_id": world.acme_agent.id},
        headers=bearer(api, world.acme_admin),
    )
    created = await api.client.post(
        f"/api/v1/chats/{chat['id']}/suggestions", json={"body": "Draft"}, headers=SERVICE
    )
    suggestion = created.json()
    assert [(e.channel, e.type) for e in (await log.new())[-1:]] == [
        (user_channel(world.acme_agent.id), "ai.suggestion_ready")
    ]
    accepted = await api.client.post(
        f"/api/v1/suggestions/{suggestion['id']}/accept",
        json={"body": "Edited draft"},
        headers=bearer(api, world.acme_agent),
    )
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    message = body["message"]
    assert (message["body"], message["direction"], message["sender_id"]) == (
        "Edited draft",
        "outbound",
        world.acme_agent.id,
    )
    assert (body["suggestion"]["status"], body["suggestion"]["message_id"]) == ("accepted", message["id"])
    assert sorted((e.channel, e.type) for e in await log.new()) == sorted(
        [
            (chats_channel(world.acme.id), "message.new"),
            (user_channel(world.acme_agent.id), "ai.suggestion_accepted"),
        ]
    )
    for action in ("accept", "discard"):
        again = await api.client.post(
            f"/api/v1/suggestions/{suggestion['id']}/{action}", headers=bearer(api, world.acme_agent)
        )
        assert again.status_code == 409 and again.json()["code"] == "already_decided", again.text
    assert await log.new() == []

    another = (
        await api.client.post(
            f"/api/v1/chats/{chat['id']}/suggestions", json={"body": "Also"}, headers=SERVICE
        )
    ).json()
    await log.new()
    as_is = await api.client.post(
        f"/api/v1/suggestions/{another['id']}/accept", headers=bearer(api, world.acme_agent2)
    )
    assert as_is.json()["message"]["body"] == "Also"
    third = (
        await api.client.post(f"/api/v1/chats/{chat['id']}/suggestions", json={"body": "No"}, headers=SERVICE)
    ).json()
    await log.new()
    discarded = await api.client.post(
        f"/api/v1/suggestions/{third['id']}/discard", headers=bearer(api, world.acme_agent2)
    )
    assert discarded.status_code == 200 and discarded.json()["status"] == "discarded"
    assert [(e.channel, e.type) for e in await log.new()] == [
        (user_channel(world.acme_agent.id), "ai.suggestion_discarded")
    ]
