"""`POST /api/v1/auth/login` and `GET /api/v1/me` through the HTTP API."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import delete, select

from tests.support.accounts import TEST_PASSWORD, Api, running_api
from waxos.auth.models import LoginFailure, Membership, User
from waxos.db.base import utcnow
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


async def _login_from(api: Api, address: str, email: str, password: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=api.app, client=(address, 40_000))
    async with httpx.AsyncClient(transport=transport, base_url="http://waxos.test") as client:
        return await client.post("/api/v1/auth/login", json={"email": email, "password": password})


async def _failures(api: Api) -> list[tuple[str, datetime]]:
    async with transaction(api.sessions) as session:
        rows = await session.execute(select(LoginFailure.email, LoginFailure.failed_at))
        return [(row.email, row.failed_at) for row in rows]


async def test_a_flood_from_one_address_is_refused_before_any_hashing(database_url: str) -> None:
    # Random emails dodge the per-account lockout; the address does not.
    async with running_api(database_url, waxos_login_attempts_per_minute=3) as api:
        flood = [await _login_from(api, "198.51.100.7", f"random{n}@x.test", "guess") for n in range(5)]
        assert [response.status_code for response in flood] == [401, 401, 401, 429, 429]
        refused = flood[-1]
        assert refused.json()["code"] == "login_throttled"
        assert refused.json()["message"].startswith("too many login attempts from this address")
        assert int(refused.headers["Retry-After"]) == refused.json()["retry_after"] > 0
        # The refused attempts reached neither the database nor the hasher.
        assert len(await _failures(api)) == 3
        # Another address is not held back.
        other = await _login_from(api, "198.51.100.8", "agent@acme.test", TEST_PASSWORD)
        assert other.status_code == 200


async def test_failures_past_the_window_are_pruned_whatever_their_email(database_url: str) -> None:
    async with running_api(database_url) as api:
        now = utcnow()
        async with transaction(api.sessions) as session:
            session.add_all(
                LoginFailure(email=f"old{n}@x.test", failed_at=now - timedelta(hours=1)) for n in range(120)
            )
            session.add(LoginFailure(email="recent@x.test", failed_at=now - timedelta(minutes=1)))
        for attempt in range(3):
            response = await _login_from(api, "198.51.100.9", f"someone{attempt}@x.test", "guess")
            assert response.status_code == 401
        left = await _failures(api)
    assert sorted(email for email, _ in left) == [
        "recent@x.test",
        "someone0@x.test",
        "someone1@x.test",
        "someone2@x.test",
    ]
