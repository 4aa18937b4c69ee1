"""`POST /api/v1/auth/login` and `GET /api/v1/me` through the HTTP API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import delete

from tests.support.accounts import TEST_PASSWORD, Api, running_api
from waxos.auth.models import Membership, User
from waxos.db.engine import transaction


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with running_api(database_url, waxos_access_token_minutes=7) as api:
        yield api


async def test_login_then_me(api: Api) -> None:
    response = await api.client.post(
        "/api/v1/auth/login", json={"email": "admin@acme.test", "password": TEST_PASSWORD}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 7 * 60

    me = await api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200, me.text
    world = api.world
    assert me.json() == {
        "id": world.acme_admin.id,
        "email": "admin@acme.test",
        "name": "Ada Admin",
        "is_operator": False,
        "workspaces": [{"id": world.acme.id, "name": "Acme", "role": "admin"}],
    }


async def test_a_wrong_password_is_401_without_saying_which_field(api: Api) -> None:
    wrong = await api.client.post(
        "/api/v1/auth/login", json={"email": "admin@acme.test", "password": "wrong-test-pass"}
    )
    unknown = await api.client.post(
        "/api/v1/auth/login", json={"email": "nobody@acme.test", "password": TEST_PASSWORD}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {
            "code": "invalid_credentials",
            "message": "invalid email or password",
        }
    )


async def test_repeated_failures_are_refused_with_429_and_retry_after(api: Api) -> None:
    attempt = {"email": "agent@acme.test", "password": "guessing-test-pass"}
    statuses = [(await api.client.post("/api/v1/auth/login", json=attempt)).status_code for _ in range(5)]
    refused = await api.client.post(
        "/api/v1/auth/login", json={"email": "agent@acme.test", "password": TEST_PASSWORD}
    )
    assert statuses == [401] * 5
    assert refused.status_code == 429
    retry_after = int(refused.headers["Retry-After"])
    assert 0 < retry_after <= timedelta(minutes=15).total_seconds()
    assert refused.json()["retry_after"] == retry_after


async def test_concurrent_wrong_passwords_cannot_exceed_the_lockout(api: Api) -> None:
    attempt = {"email": "agent@acme.test", "password": "guessing-test-pass"}
    responses = await asyncio.gather(
        *(api.client.post("/api/v1/auth/login", json=attempt) for _ in range(12))
    )
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [401] * 5 + [429] * 7, statuses
    right = await api.client.post(
        "/api/v1/auth/login", json={"email": "agent@acme.test", "password": TEST_PASSWORD}
    )
    assert right.status_code == 429


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"email": "admin@acme.test"}, id="no-password"),
        pytest.param({"password": TEST_PASSWORD}, id="no-email"),
        pytest.param({"email": "a" * 400 + "@acme.test", "password": "x"}, id="email-too-long"),
        pytest.param({"email": "admin@acme.test", "password": "x" * 2000}, id="password-too-long"),
        pytest.param({"email": 5, "password": ["x"]}, id="wrong-types"),
        pytest.param([], id="not-an-object"),
    ],
)
async def test_malformed_login_bodies_are_422(api: Api, body: object) -> None:
    response = await api.client.post("/api/v1/auth/login", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["code"] == "invalid_request"


async def test_a_login_body_over_the_body_limit_is_413(api: Api) -> None:
    body = {"email": "admin@acme.test", "password": "x" * (1 << 20)}
    response = await api.client.post("/api/v1/auth/login", json=body)
    assert response.status_code == 413, response.text
    assert response.json()["code"] == "too_large"


async def test_me_needs_a_live_user(api: Api) -> None:
    world = api.world
    token = world.token(world.acme_agent)
    headers = {"Authorization": f"Bearer {token}"}
    assert (await api.client.get("/api/v1/me")).status_code == 401
    assert (await api.client.get("/api/v1/me", headers={"Authorization": "Basic YTpi"})).status_code == 401
    expired = world.token(world.acme_agent, minutes=1, age=timedelta(minutes=5))
    response = await api.client.get("/api/v1/me", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json() == {"code": "not_authenticated", "message": "access token expired"}

    async with transaction(api.sessions) as session:
        await session.execute(delete(Membership).where(Membership.user_id == world.acme_agent.id))
    assert (await api.client.get("/api/v1/me", headers=headers)).json()["workspaces"] == []
    async with transaction(api.sessions) as session:
        await session.execute(delete(User).where(User.id == world.acme_agent.id))
    assert (await api.client.get("/api/v1/me", headers=headers)).status_code == 401
