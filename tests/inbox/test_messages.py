"""Messages through the HTTP API: send (idempotent), list, receipts (forward only), edit, delete, read."""

from __future__ import annotations

from tests.inbox.helpers import open_chat, send
from tests.support.accounts import Api
from tests.support.inbox import EventLog, bearer
from waxos.channels.names import chats_channel
from waxos.inbox.schemas import MAX_TEXT_CHARS


async def test_sending_answers_the_contract_shape_and_emits_message_new_once(api: Api, log: EventLog) -> None:
    world = api.world
    chat = await open_chat(api)
    await log.new()
    response = await send(api, chat["id"], "Hi Cleo", client_id="c-1")
    assert response.status_code == 201, response.text
    message = response.json()
    assert {k: message[k] for k in ("chat_id", "direction", "body", "status", "client_id", "sender_id")} == {
        "chat_id": chat["id"],
        "direction": "outbound",
        "body": "Hi Cleo",
        "status": "sent",
        "client_id": "c-1",
        "sender_id": world.acme_agent.id,
    }
    (event,) = await log.new()
    assert (event.channel, event.type, event.data) == (
        chats_channel(world.acme.id),
        "message.new",
        {
            "chat_id": chat["id"],
            "message_id": message["id"],
            "direction": "outbound",
            "sender_type": "staff",
            "sender_id": world.acme_agent.id,
        },
    )
    assert "Hi Cleo" not in str(event.data), "payloads carry ids, never bodies"

    retried = await send(api, chat["id"], "Hi Cleo", client_id="c-1")
    assert retried.status_code == 200 and retried.json() == message
    assert await log.new() == []
    reused = await send(api, chat["id"], "Something else", client_id="c-1")
    assert reused.status_code == 409 and reused.json()["code"] == "client_id_reused"
    inbound = await send(api, chat["id"], "Thanks!", "inbound")
    assert inbound.status_code == 201 and inbound.json()["sender_id"] is None
    (event,) = await log.new()
    assert (event.data["sender_type"], event.data["sender_id"]) == ("contact", None)


async def test_a_closed_chat_refuses_replies_and_a_customer_message_reopens_it(
    api: Api, log: EventLog
) -> None:
    world = api.world
    chat = await open_chat(api)
    headers = bearer(api, world.acme_agent)
    await api.client.patch(f"/api/v1/chats/{chat['id']}", json={"status": "closed"}, headers=headers)
    await log.new()
    refused = await send(api, chat["id"], "Anything else?")
    assert refused.status_code == 409 and refused.json()["code"] == "chat_closed"
    assert await log.new() == []
    assert (await send(api, chat["id"], "One more question", "inbound")).status_code == 201
    assert [(e.type, e.data.get("status")) for e in await log.new()] == [
        ("chat.status", "open"),
        ("message.new", None),
    ]
    assert (await api.client.get(f"/api/v1/chats/{chat['id']}", headers=headers)).json()["status"] == "open"


async def test_a_retried_customer_message_does_not_reopen_the_chat_closed_after_it(
    api: Api, log: EventLog
) -> None:
    """The first send was stored, then staff closed the chat; the client's retry of that send (same
    client_id) returns the stored message and leaves the chat closed, with no event."""
    world = api.world
    chat = await open_chat(api)
    headers = bearer(api, world.acme_agent)
    first = await send(api, chat["id"], "Is it shipped?", "inbound", client_id="contact-7")
    assert first.status_code == 201
    await api.client.patch(f"/api/v1/chats/{chat['id']}", json={"status": "closed"}, headers=headers)
    await log.new()
    retried = await send(api, chat["id"], "Is it shipped?", "inbound", client_id="contact-7")
    assert retried.status_code == 200 and retried.json()["id"] == first.json()["id"]
    assert await log.new() == []
    assert (await api.client.get(f"/api/v1/chats/{chat['id']}", headers=headers)).json()["status"] == "closed"


async def test_receipts_only_move_forward_and_each_emits_message_status(api: Api, log: EventLog) -> None:
    chat = await open_chat(api)
    message = (await send(api, chat["id"])).json()
    await log.new()
    url = f"/api/v1/messages/{message['id']}"
    headers = bearer(api, api.world.acme_agent2)
    delivered = await api.client.patch(url, json={"status": "delivered"}, headers=headers)
    assert delivered.status_code == 200 and delivered.json()["status"] == "delivered"
    (event,) = await log.new()
    assert (event.type, event.data["status"], event.data["applies_to"]) == (
        "message.status",
        "delivered",
        "message",
    )
    for status in ("delivered", "sent"):
        refused = await api.client.patch(url, json={"status": status}, headers=headers)
        assert refused.status_code in (409, 422), refused.text
    assert (await api.client.patch(url, json={"status": "read"}, headers=headers)).json()["status"] == "read"
    again = await api.client.patch(url, json={"status": "read"}, headers=headers)
    assert again.status_code == 409 and again.json() == {
        "code": "invalid_transition",
        "message": "a read message cannot become read",
        "current_status": "read",
    }
    assert [e.data["status"] for e in await log.new()] == ["read"]
    both = await api.client.patch(url, json={"status": "read", "body": "x"}, headers=headers)
    neither = await api.client.patch(url, json={}, headers=headers)
    assert both.status_code == neither.status_code == 422
    assert await log.new() == []


async def test_only_the_sender_edits_an_outbound_message_and_edits_carry_a_version(
    api: Api, log: EventLog
) -> None:
    world = api.world
    chat = await open_chat(api)
    message = (await send(api, chat["id"], "Helo")).json()
    inbound = (await send(api, chat["id"], "Hi", "inbound")).json()
    await log.new()
    url = f"/api/v1/messages/{message['id']}"
    edited = await api.client.patch(url, json={"body": "Hello"}, headers=bearer(api, world.acme_agent))
    assert edited.status_code == 200 and (edited.json()["body"], edited.json()["version"]) == ("Hello", 2)
    (event,) = await log.new()
    assert (event.type, event.data) == (
        "message.updated",
        {"chat_id": chat["id"], "message_id": message["id"], "version": 2, "changed": ["body"]},
    )
    other = await api.client.patch(url, json={"body": "Hijacked"}, headers=bearer(api, world.acme_admin))
    assert other.status_code == 403 and other.json()["code"] == "not_sender"
    customer_text = await api.client.patch(
        f"/api/v1/messages/{inbound['id']}", json={"body": "x"}, headers=bearer(api, world.acme_agent)
    )
    assert customer_text.status_code == 409 and customer_text.json()["code"] == "not_editable"
    assert await log.new() == []


async def test_deleting_is_for_the_sender_or_an_admin_and_the_message_is_then_gone(
    api: Api, log: EventLog
) -> None:
    world = api.world
    chat = await open_chat(api)
    mine = (await send(api, chat["id"], "Oops")).json()
    theirs = (await send(api, chat["id"], "Fine")).json()
    await log.new()
    refused = await api.client.delete(
        f"/api/v1/messages/{theirs['id']}", headers=bearer(api, world.acme_agent2)
    )
    assert refused.status_code == 403
    assert (
        await api.client.delete(f"/api/v1/messages/{mine['id']}", headers=bearer(api, world.acme_agent))
    ).status_code == 204
    by_admin = await api.client.delete(
        f"/api/v1/messages/{theirs['id']}", headers=bearer(api, world.acme_admin)
    )
    assert by_admin.status_code == 204
    assert [(e.type, e.data["message_id"]) for e in await log.new()] == [
        ("message.deleted", mine["id"]),
        ("message.deleted", theirs["id"]),
    ]
    gone = await api.client.get(f"/api/v1/messages/{mine['id']}", headers=bearer(api, world.acme_agent))
    assert gone.status_code == 404 and gone.json()["code"] == "message_not_found"
    listed = (
        await api.client.get(f"/api/v1/chats/{chat['id']}/messages", headers=bearer(api, world.acme_agent))
    ).json()
    assert listed["items"] == []


async def test_reading_up_to_a_message_marks_the_range_with_one_event(api: Api, log: EventLog) -> None:
    chat = await open_chat(api)
    other_chat = await open_chat(api)
    inbound = [(await send(api, chat["id"], f"q{n}", "inbound")).json()["id"] for n in range(3)]
    reply = (await send(api, chat["id"], "answer")).json()["id"]
    later = (await send(api, chat["id"], "q4", "inbound")).json()["id"]
    elsewhere = (await send(api, other_chat["id"], "x", "inbound")).json()["id"]
    await log.new()
    url = f"/api/v1/chats/{chat['id']}/read"
    headers = bearer(api, api.world.acme_agent)
    read = await api.client.post(url, json={"up_to_message_id": reply}, headers=headers)
    assert read.status_code == 200 and read.json() == {
        "chat_id": chat["id"],
        "up_to_message_id": reply,
        "marked": 3,
    }
    (event,) = await log.new()
    assert (event.type, event.data["message_id"], event.data["status"], event.data["applies_to"]) == (
        "message.status",
        reply,
        "read",
        "inbound_up_to",
    )
    again = await api.client.post(url, json={"up_to_message_id": reply}, headers=headers)
    assert again.json()["marked"] == 0 and await log.new() == []
    page = (await api.client.get(f"/api/v1/chats/{chat['id']}/messages", headers=headers)).json()
    assert {m["id"]: m["status"] for m in page["items"]} == {
        **dict.fromkeys(inbound, "read"),
        reply: "sent",
        later: "sent",
    }
    foreign = await api.client.post(url, json={"up_to_message_id": elsewhere}, headers=headers)
    assert foreign.status_code == 422 and foreign.json()["code"] == "unknown_message"


async def test_the_message_list_pages_by_id_after_a_position(api: Api) -> None:
    chat = await open_chat(api)
    ids = [(await send(api, chat["id"], f"m{n}")).json()["id"] for n in range(5)]
    url = f"/api/v1/chats/{chat['id']}/messages"
    headers = bearer(api, api.world.acme_agent)
    first = (await api.client.get(url, params={"limit": 3}, headers=headers)).json()
    rest = (
        await api.client.get(url, params={"after": first["next_after"], "limit": 3}, headers=headers)
    ).json()
    assert ([m["id"] for m in first["items"]], first["has_more"]) == (ids[:3], True)
    assert ([m["id"] for m in rest["items"]], rest["has_more"], rest["next_after"]) == (
        ids[3:],
        False,
        ids[-1],
    )


async def test_oversized_texts_and_bodies_are_413_and_bad_text_422_with_nothing_written(
    api: Api, log: EventLog
) -> None:
    chat = await open_chat(api)
    await log.new()
    long = await send(api, chat["id"], "x" * (MAX_TEXT_CHARS + 1))
    assert long.status_code == 413 and long.json()["code"] == "text_too_large", long.text
    assert (await send(api, chat["id"], "é" * MAX_TEXT_CHARS)).status_code == 201
    await log.new()
    huge = await api.client.post(
        f"/api/v1/chats/{chat['id']}/messages",
        content=b'{"body": "' + b"x" * 70_000 + b'", "direction": "outbound"}',
        headers={**bearer(api, api.world.acme_agent), "Content-Type": "application/json"},
    )
    assert huge.status_code == 413 and huge.json()["code"] == "too_large", huge.text

    async def chunks():  # no Content-Length: the limit is counted as the body streams in
        for _ in range(100):
            yield b" " * 1024

    streamed = await api.client.post(
        f"/api/v1/chats/{chat['id']}/messages",
        content=chunks(),
        headers={**bearer(api, api.world.acme_agent), "Content-Type": "application/json"},
    )
    assert streamed.status_code == 413, streamed.text
    for bad in (
        {"body": "nul\x00byte", "direction": "outbound"},
        {"body": "   ", "direction": "outbound"},
        {"body": "x", "direction": "sideways"},
        {"body": "x", "direction": "outbound", "client_id": "has space"},
        {"body": "x", "direction": "outbound", "extra": 1},
    ):
        response = await api.client.post(
            f"/api/v1/chats/{chat['id']}/messages", json=bad, headers=bearer(api, api.world.acme_agent)
        )
        assert response.status_code == 422, (bad, response.text)
    listed = (
        await api.client.get(
            f"/api/v1/chats/{chat['id']}/messages", headers=bearer(api, api.world.acme_agent)
        )
    ).json()
    assert len(listed["items"]) == 1 and await log.new() == []
