"""Helpers of the inbox tests: the AI service's token, opening a chat, sending a message, terminations."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from tests.support.accounts import Api
from tests.support.inbox import bearer
from waxos.events.terminations import UserTermination

SERVICE_TOKEN = "wxs_test-service-token-not-a-secret-0000000000000"


async def open_chat(
    api: Api, workspace_id: int | None = None, name: str = "Cleo Customer"
) -> dict[str, object]:
    workspace_id = workspace_id or api.world.acme.id
    response = await api.client.post(
        f"/api/v1/workspaces/{workspace_id}/chats",
        json={"customer": {"name": name, "handle": "+15550100"}},
        headers=bearer(
            api, api.world.acme_agent if workspace_id == api.world.acme.id else api.world.globex_admin
        ),
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def send(
    api: Api, chat_id: object, body: str = "hello", direction: str = "outbound", **extra: Any
) -> Any:
    user = extra.pop("user", api.world.acme_agent)
    return await api.client.post(
        f"/api/v1/chats/{chat_id}/messages",
        json={"body": body, "direction": direction, **extra},
        headers=bearer(api, user),
    )


async def terminations(api: Api) -> list[int]:
    """Users whose live connections the relay is asked to close."""
    async with api.sessions() as session:
        return list(await session.scalars(select(UserTermination.user_id).order_by(UserTermination.user_id)))
