"""The Pusher auth endpoints: every channel kind against every kind of caller, and the signatures."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from tests.support.accounts import Api, World, running_api
from tests.support.settings import MASTER_KEY, PUSHER_KEY, PUSHER_SECRET, make_settings
from waxos.app import create_app

SOCKET_ID = "123.456"
AUTH = "/api/v1/pusher/auth"
PRESENCE_AUTH = "/api/v1/pusher/presence-auth"
USER_AUTH = "/api/v1/pusher/user-auth"


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with running_api(database_url) as api:
        yield api


def signature(text: str) -> str:
    digest = hmac.new(PUSHER_SECRET.encode(), text.encode(), hashlib.sha256).hexdigest()
    return f"{PUSHER_KEY}:{digest}"


def channels(world: World) -> dict[str, str]:
    """The channels of Acme, and the user channel of Acme's agent, by kind."""
    return {
        "private": f"private-workspace-{world.acme.id}.chats",
        "encrypted": f"private-encrypted-workspace-{world.acme.id}.chats",
        "presence": f"presence-workspace-{world.acme.id}",
        "user": f"private-user-{world.acme_agent.id}",
    }


def callers(world: World) -> dict[str, dict[str, str]]:
    """Authorization headers for each kind of caller, all relative to Acme's agent and channels."""
    return {
        "member": {"Authorization": f"Bearer {world.token(world.acme_agent)}"},
        "non-member": {"Authorization": f"Bearer {world.token(world.loner)}"},
        "other-workspace": {"Authorization": f"Bearer {world.token(world.globex_admin)}"},
        "other-user": {"Authorization": f"Bearer {world.token(world.acme_agent2)}"},
        "expired-token": {
            "Authorization": f"Bearer {world.token(world.acme_agent, minutes=5, age=timedelta(minutes=6))}"
        },
        "no-token": {},
    }


# Columns: the channel kind, and for presence also through the presence-only endpoint.
COLUMNS = [
    ("private", AUTH),
    ("encrypted", AUTH),
    ("presence", AUTH),
    ("presence", PRESENCE_AUTH),
    ("user", AUTH),
]
EXPECTED = {
    "member": [200, 200, 200, 200, 200],
    "non-member": [403, 403, 403, 403, 403],
    "other-workspace": [403, 403, 403, 403, 403],
    # Acme's other agent shares the workspace's channels but not the first agent's own channel.
    "other-user": [200, 200, 200, 200, 403],
    "expired-token": [401, 401, 401, 401, 401],
    "no-token": [401, 401, 401, 401, 401],
}


async def test_the_channel_matrix(api: Api) -> None:
    world = api.world
    names = channels(world)
    users = {"member": world.acme_agent, "other-user": world.acme_agent2}
    roles = {"member": "agent", "other-user": "agent"}
    statuses: dict[str, list[int]] = {}
    for caller, headers in callers(world).items():
        statuses[caller] = []
        for kind, endpoint in COLUMNS:
            channel = names[kind]
            response = await api.client.post(
                endpoint, data={"socket_id": SOCKET_ID, "channel_name": channel}, headers=headers
            )
            statuses[caller].append(response.status_code)
            body = response.json()
            where = f"{caller} -> {endpoint} {channel}"
            if response.status_code == 200:
                if kind == "presence":
                    user = users[caller]
                    assert json.loads(body["channel_data"]) == {
                        "user_id": str(user.id),
                        "user_info": {"name": user.name, "role": roles[caller]},
                    }, where
                    signed = f"{SOCKET_ID}:{channel}:{body['channel_data']}"
                    assert body == {
                        "auth": signature(signed),
                        "channel_data": body["channel_data"],
                    }, where
                elif kind == "encrypted":
                    shared = hashlib.sha256(channel.encode() + base64.b64decode(MASTER_KEY)).digest()
                    assert body == {
                        "auth": signature(f"{SOCKET_ID}:{channel}"),
                        "shared_secret": base64.b64encode(shared).decode(),
                    }, where
                else:
                    assert body == {"auth": signature(f"{SOCKET_ID}:{channel}")}, where
            elif response.status_code == 403:
                # The reason and the channel asked for, nothing about the workspace or its members.
                assert set(body) == {"code", "message", "channel"}, where
                assert body["code"] == "channel_denied", where
                assert body["channel"] == channel, where
                assert "Acme" not in response.text, where
            else:
                assert body["code"] == "not_authenticated", where
    assert statuses == EXPECTED


async def test_user_sign_in_matrix(api: Api) -> None:
    world = api.world
    statuses = {}
    for caller, headers in callers(world).items():
        response = await api.client.post(USER_AUTH, data={"socket_id": SOCKET_ID}, headers=headers)
        statuses[caller] = response.status_code
    member = await api.client.post(USER_AUTH, data={"socket_id": SOCKET_ID}, headers=callers(world)["member"])
    body = member.json()
    assert json.loads(body["user_data"]) == {
        "id": str(world.acme_agent.id),
        "user_info": {"name": "Alan Agent"},
    }
    assert body["auth"] == signature(f"{SOCKET_ID}::user::{body['user_data']}")
    assert statuses == {
        "member": 200,
        "non-member": 200,
        "other-workspace": 200,
        "other-user": 200,
        "expired-token": 401,
        "no-token": 401,
    }


async def test_json_bodies_are_accepted_and_request_user_data_is_ignored(api: Api) -> None:
    world = api.world
    channel = f"presence-workspace-{world.acme.id}"
    response = await api.client.post(
        AUTH,
        json={
            "socket_id": SOCKET_ID,
            "channel_name": channel,
            "channel_data": json.dumps({"user_id": "1", "user_info": {"name": "Forged", "role": "admin"}}),
            "user_id": str(world.globex_admin.id),
        },
        headers=callers(world)["member"],
    )
    assert response.status_code == 200, response.text
    assert json.loads(response.json()["channel_data"]) == {
        "user_id": str(world.acme_agent.id),
        "user_info": {"name": "Alan Agent", "role": "agent"},
    }


@pytest.mark.parametrize(
    "channel",
    [
        "workspace-1.chats",
        "private-workspace-1",
        "presence-workspace-1.chats",
        "presence-user-1",
        "private-encrypted-user-1",
        "private-workspace-1.chats,private-workspace-2.chats",
        "private-anything",
    ],
)
async def test_channels_outside_the_conventions_are_denied(api: Api, channel: str) -> None:
    response = await api.client.post(
        AUTH,
        data={"socket_id": SOCKET_ID, "channel_name": channel},
        headers=callers(api.world)["member"],
    )
    assert response.status_code == 403, response.text
    assert response.json()["code"] == "channel_denied"


def test_the_auth_endpoints_are_documented_with_both_body_types() -> None:
    schema = create_app(make_settings("sqlite+aiosqlite:///unused-openapi.db")).openapi()
    for path in (AUTH, PRESENCE_AUTH, USER_AUTH):
        operation = schema["paths"][path]["post"]
        content = set(operation["requestBody"]["content"])
        assert content == {"application/x-www-form-urlencoded", "application/json"}, path
        assert {"200", "400", "401"} <= set(operation["responses"]), path
        assert operation["security"] == [{"HTTPBearer": []}], path
    assert "403" in schema["paths"][AUTH]["post"]["responses"]
