"""pusher-js, signed in as staff, authorizes through the real WAXOS endpoints against the local server.

Allowed channels deliver events; every other tenant's channel, and another user's own channel, fail with
`pusher:subscription_error` carrying the endpoint's status. Presence members carry the database record.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.e2e.node import NodeSubscriber
from tests.support.accounts import TEST_PASSWORD, World, build_world, migrated
from tests.support.local_pusher import LocalPusher, running_local_pusher
from tests.support.realtime_stack import SECRET, api_in_thread
from tests.support.settings import PUSHER_KEY

pytestmark = pytest.mark.needs_node

StartJs = Callable[..., Awaitable[NodeSubscriber]]


async def _login(api: str, email: str) -> str:
    async with httpx.AsyncClient(base_url=api) as client:
        response = await client.post("/api/v1/auth/login", json={"email": email, "password": TEST_PASSWORD})
    response.raise_for_status()
    token: str = response.json()["access_token"]
    return token


def _client_options(server: LocalPusher, api: str, token: str | None, **extra: Any) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return server.node_options(
        authEndpoint=f"{api}/api/v1/pusher/auth",
        authHeaders=headers,
        userAuthEndpoint=f"{api}/api/v1/pusher/user-auth",
        userAuthHeaders=headers,
        **extra,
    )


async def _world(database_url: str) -> World:
    async with migrated(database_url) as (_engine, sessions):
        return await build_world(sessions)


async def test_a_member_subscribes_to_its_own_channels_and_is_refused_the_rest(
    database_url: str, pusher_js: StartJs
) -> None:
    world = await _world(database_url)
    mine = [
        f"private-workspace-{world.acme.id}.chats",
        f"presence-workspace-{world.acme.id}",
        f"private-user-{world.acme_agent.id}",
    ]
    theirs = [
        f"private-workspace-{world.globex.id}.chats",
        f"presence-workspace-{world.globex.id}",
        f"private-user-{world.globex_admin.id}",
        f"private-user-{world.acme_agent2.id}",
    ]
    with (
        running_local_pusher(key=PUSHER_KEY, secret=SECRET) as server,
        api_in_thread(database_url, server.port, waxos_run_relay=False) as api,
    ):
        token = await _login(api, "agent@acme.test")
        agent = await pusher_js(_client_options(server, api, token, channels=mine + theirs, signin=True))
        await agent.expect("signed_in")
        presence = {}
        for channel in mine:
            subscribed = await agent.expect("subscribed", channel=channel)
            presence[channel] = subscribed.get("members")
        for channel in theirs:
            refused = await agent.expect("subscription_error", channel=channel)
            assert refused["error"]["type"] == "AuthError", refused
            assert refused["error"]["status"] == 403, refused

        assert presence[f"presence-workspace-{world.acme.id}"] == {
            "count": 1,
            "me": {"id": str(world.acme_agent.id), "info": {"name": "Alan Agent", "role": "agent"}},
            "ids": [str(world.acme_agent.id)],
        }

        # A colleague joins presence: the member record comes from the database, not from the client.
        colleague_token = await _login(api, "agent2@acme.test")
        colleague = await pusher_js(
            _client_options(server, api, colleague_token, channels=[f"presence-workspace-{world.acme.id}"])
        )
        await colleague.expect("subscribed")
        joined = await agent.expect("member_added")
        assert joined["user_id"] == str(world.acme_agent2.id)
        assert joined["user_info"] == {"name": "Grace Agent", "role": "agent"}

        sdk = server.sdk()
        for channel in mine + theirs:
            await asyncio.to_thread(sdk.trigger, channel, "message.new", {"channel": channel})
        for channel in mine:
            await agent.expect("event", channel=channel, event="message.new")
        await agent.drain(0.5)
        assert sorted(e["channel"] for e in agent.events()) == sorted(mine)


async def test_without_a_token_every_subscription_fails_with_401(
    database_url: str, pusher_js: StartJs
) -> None:
    world = await _world(database_url)
    channel = f"private-workspace-{world.acme.id}.chats"
    with (
        running_local_pusher(key=PUSHER_KEY, secret=SECRET) as server,
        api_in_thread(database_url, server.port, waxos_run_relay=False) as api,
    ):
        anonymous = await pusher_js(_client_options(server, api, None, channels=[channel]))
        refused = await anonymous.expect("subscription_error", channel=channel)
    assert refused["error"]["status"] == 401
