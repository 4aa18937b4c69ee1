"""Bad input and abuse at the Pusher auth endpoints: always a clear 4xx, never a 500."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import delete

from tests.support.accounts import Api, running_api
from tests.support.settings import PUSHER_SECRET
from waxos.auth.models import Membership, User
from waxos.auth.tokens import issue_access_token
from waxos.db.base import utcnow
from waxos.db.engine import transaction

SOCKET_ID = "123.456"
AUTH = "/api/v1/pusher/auth"


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with running_api(database_url) as api:
        yield api


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_forged_tokens_are_401(api: Api) -> None:
    world = api.world
    channel = f"private-workspace-{world.acme.id}.chats"
    user = world.acme_agent
    forged = issue_access_token(
        user.id, user.token_generation, "not-the-server-secret", timedelta(minutes=5), utcnow()
    )
    for headers in (
        bearer(forged),
        bearer("garbage"),
        bearer(""),
        {"Authorization": world.token(world.acme_agent)},  # no scheme
        {"Authorization": f"Basic {world.token(world.acme_agent)}"},
    ):
        response = await api.client.post(
            AUTH, data={"socket_id": SOCKET_ID, "channel_name": channel}, headers=headers
        )
        assert response.status_code == 401, (headers, response.text)


async def test_access_ends_at_once_when_a_membership_or_a_user_is_removed(api: Api) -> None:
    world = api.world
    headers = bearer(world.token(world.acme_agent))
    form = {"socket_id": SOCKET_ID, "channel_name": f"presence-workspace-{world.acme.id}"}
    assert (await api.client.post(AUTH, data=form, headers=headers)).status_code == 200
    async with transaction(api.sessions) as session:
        await session.execute(delete(Membership).where(Membership.user_id == world.acme_agent.id))
    assert (await api.client.post(AUTH, data=form, headers=headers)).status_code == 403
    own = {"socket_id": SOCKET_ID, "channel_name": f"private-user-{world.acme_agent.id}"}
    assert (await api.client.post(AUTH, data=own, headers=headers)).status_code == 200
    async with transaction(api.sessions) as session:
        await session.execute(delete(User).where(User.id == world.acme_agent.id))
    assert (await api.client.post(AUTH, data=own, headers=headers)).status_code == 401
    signin = await api.client.post("/api/v1/pusher/user-auth", data={"socket_id": SOCKET_ID}, headers=headers)
    assert signin.status_code == 401


_CHANNEL = "private-user-1"
# Each case: the fields sent (form-encoded, then as JSON), the expected status and error code.
MALFORMED_FIELDS = {
    "no-socket-id": ({"channel_name": _CHANNEL}, 400, "invalid_request"),
    "no-channel": ({"socket_id": SOCKET_ID}, 400, "invalid_request"),
    "empty-socket-id": ({"socket_id": "", "channel_name": _CHANNEL}, 400, "invalid_request"),
    "socket-id-1234": ({"socket_id": "1234", "channel_name": _CHANNEL}, 400, "invalid_name"),
    "socket-id-a.b": ({"socket_id": "a.b", "channel_name": _CHANNEL}, 400, "invalid_name"),
    "socket-id-1.2.3": ({"socket_id": "1.2.3", "channel_name": _CHANNEL}, 400, "invalid_name"),
    "socket-id-newline": ({"socket_id": "1.2\n", "channel_name": _CHANNEL}, 400, "invalid_name"),
    "channel-newline": ({"socket_id": SOCKET_ID, "channel_name": _CHANNEL + "\n"}, 400, "invalid_name"),
    "channel-umlaut": ({"socket_id": SOCKET_ID, "channel_name": "private-wörk-1"}, 400, "invalid_name"),
    "channel-hash": ({"socket_id": SOCKET_ID, "channel_name": "#server-to-user-1"}, 400, "invalid_name"),
    "channel-space": ({"socket_id": SOCKET_ID, "channel_name": "private user"}, 400, "invalid_name"),
    "channel-nul": ({"socket_id": SOCKET_ID, "channel_name": "private-\x00"}, 400, "invalid_name"),
    "channel-too-long": (
        {"socket_id": SOCKET_ID, "channel_name": "private-workspace-1." + "a" * 160},
        400,
        "invalid_name",
    ),
    "channel-huge-id": (
        {"socket_id": SOCKET_ID, "channel_name": "private-workspace-99999999999999999999.chats"},
        403,
        "channel_denied",
    ),
}


async def test_malformed_fields_are_4xx(api: Api) -> None:
    headers = bearer(api.world.token(api.world.acme_agent))
    outcomes = {}
    for case, (fields, _status, _code) in MALFORMED_FIELDS.items():
        form = await api.client.post(AUTH, headers=headers, data=fields)
        as_json = await api.client.post(AUTH, headers=headers, json=fields)
        outcomes[case] = (form.status_code, form.json()["code"])
        assert (as_json.status_code, as_json.json()["code"]) == outcomes[case], case
    assert outcomes == {case: (status, code) for case, (_f, status, code) in MALFORMED_FIELDS.items()}


# Each case: the raw body, its content type, and the expected status.
BAD_BODIES = {
    "1MB-form": (b"socket_id=1.2&channel_name=" + b"a" * (1 << 20), "application/x-www-form-urlencoded", 413),
    "1MB-json": (b"{" + b" " * (1 << 20) + b"}", "application/json", 413),
    "invalid-json": (b"{not json", "application/json", 400),
    "json-array": (b"[1, 2]", "application/json", 400),
    "json-wrong-types": (b'{"socket_id": 1.2, "channel_name": ["x"]}', "application/json", 400),
    "form-bad-percent-utf8": (b"socket_id=%ff%fe", "application/x-www-form-urlencoded", 400),
    "form-raw-bad-utf8": (b"\xff\xfe", "application/x-www-form-urlencoded", 400),
    "text-plain": (b"socket_id=1.2", "text/plain", 415),
}


async def test_bad_bodies_are_4xx(api: Api) -> None:
    token = bearer(api.world.token(api.world.acme_agent))
    outcomes = {}
    for case, (content, content_type, _status) in BAD_BODIES.items():
        response = await api.client.post(
            AUTH, content=content, headers={**token, "Content-Type": content_type}
        )
        outcomes[case] = response.status_code
    assert outcomes == {case: status for case, (_c, _t, status) in BAD_BODIES.items()}


async def test_a_chunked_body_over_the_limit_is_413(api: Api) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b"socket_id=1.2&channel_name="
        for _ in range(64):
            yield b"a" * 1024

    headers = {
        **bearer(api.world.token(api.world.acme_agent)),
        "Content-Type": "application/x-www-form-urlencoded",
    }
    response = await api.client.post(AUTH, content=chunks(), headers=headers)
    assert response.status_code == 413


@pytest.mark.parametrize("declared", ["²".encode("latin-1"), b"9" * 5_000])
async def test_an_odd_content_length_is_not_a_500(api: Api, declared: bytes) -> None:
    # Servers in front usually refuse these; the endpoint must not rely on it.
    async def body() -> AsyncIterator[bytes]:
        yield f"socket_id={SOCKET_ID}&channel_name=private-user-{api.world.acme_agent.id}".encode()

    headers = {
        **bearer(api.world.token(api.world.acme_agent)),
        "Content-Type": "application/x-www-form-urlencoded",
        "Content-Length": declared,
    }
    response = await api.client.post(AUTH, content=body(), headers=headers)
    assert response.status_code in {200, 413}


async def test_presence_auth_refuses_other_kinds(api: Api) -> None:
    world = api.world
    response = await api.client.post(
        "/api/v1/pusher/presence-auth",
        data={"socket_id": SOCKET_ID, "channel_name": f"private-workspace-{world.acme.id}.chats"},
        headers=bearer(world.token(world.acme_agent)),
    )
    assert response.status_code == 400
    assert response.json()["code"] == "not_presence"


async def test_encrypted_channels_without_a_master_key_are_a_clear_400(database_url: str) -> None:
    async with running_api(database_url, pusher_encryption_master_key_base64=None) as api:
        world = api.world
        response = await api.client.post(
            AUTH,
            data={"socket_id": SOCKET_ID, "channel_name": f"private-encrypted-workspace-{world.acme.id}.x"},
            headers=bearer(world.token(world.acme_agent)),
        )
    assert response.status_code == 400
    assert response.json()["code"] == "encryption_disabled"


async def test_decisions_are_logged_at_debug_without_tokens_or_secrets(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    world = api.world
    token = world.token(world.acme_agent)
    caplog.set_level(logging.DEBUG, logger="waxos")
    for workspace in (world.acme, world.globex):
        await api.client.post(
            AUTH,
            data={"socket_id": SOCKET_ID, "channel_name": f"private-workspace-{workspace.id}.chats"},
            headers=bearer(token),
        )
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("waxos.channels.policy")]
    assert lines == [
        f"channel allowed: user={world.acme_agent.id} channel=private-workspace-{world.acme.id}.chats",
        f"channel denied: user={world.acme_agent.id} channel=private-workspace-{world.globex.id}.chats "
        "reason=not a member of this workspace",
    ]
    everything = caplog.text
    assert token not in everything
    assert PUSHER_SECRET not in everything


async def test_deeply_nested_json_is_400_not_500(api: Api) -> None:
    token = bearer(api.world.token(api.world.acme_agent))
    nested = b"[" * 3000  # json.loads raises RecursionError, not ValueError
    auth = await api.client.post(AUTH, content=nested, headers={**token, "Content-Type": "application/json"})
    assert auth.status_code == 400, auth.text
    assert auth.json() == {"code": "invalid_request", "message": "the body is not valid JSON"}
    login = await api.client.post(
        "/api/v1/auth/login", content=b'{"email": ' + nested, headers={"Content-Type": "application/json"}
    )
    assert login.status_code == 400, login.text
