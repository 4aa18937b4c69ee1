"""`X-Socket-ID`: every event a request causes is logged with the sender's socket, which Pusher leaves out."""

from __future__ import annotations

from tests.inbox.helpers import open_chat, send
from tests.support.accounts import Api
from tests.support.inbox import EventLog, bearer


async def test_each_event_a_request_causes_carries_its_socket_id(api: Api, log: EventLog) -> None:
    world = api.world
    chat = await open_chat(api)
    await log.new()
    sent = await api.client.post(
        f"/api/v1/chats/{chat['id']}/messages",
        json={"body": "hi", "direction": "outbound"},
        headers=bearer(api, world.acme_agent, socket_id="123.456"),
    )
    assert sent.status_code == 201
    assigned = await api.client.put(
        f"/api/v1/chats/{chat['id']}/assignee",
        json={"user_id": world.acme_agent2.id},
        headers=bearer(api, world.acme_agent, socket_id="123.456"),
    )
    assert assigned.status_code == 200
    events = await log.new()
    assert [e.type for e in events] == ["message.new", "chat.assigned", "chat.assigned"]
    assert {e.socket_id for e in events} == {"123.456"}
    assert (await send(api, chat["id"])).status_code == 201
    assert [e.socket_id for e in await log.new()] == [None]


async def test_a_malformed_socket_id_is_400_and_changes_nothing(api: Api, log: EventLog) -> None:
    chat = await open_chat(api)
    await log.new()
    for socket_id in ("abc", "1.2.3", "1." + "9" * 70, "-1.2"):
        response = await api.client.post(
            f"/api/v1/chats/{chat['id']}/messages",
            json={"body": "hi", "direction": "outbound"},
            headers=bearer(api, api.world.acme_agent, socket_id=socket_id),
        )
        assert response.status_code == 400 and response.json()["code"] == "invalid_name", response.text
    assert await log.new() == []
