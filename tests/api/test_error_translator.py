"""The error translator (decision D6): domain errors raised anywhere become the same responses."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from waxos.api.errors import install_error_handlers
from waxos.auth.errors import InvalidCredentials, LoginThrottled, NotAuthenticated
from waxos.events.catchup import ResyncRequired


def _raising_app() -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)
    raised: dict[str, Exception] = {
        "not-authenticated": NotAuthenticated("access token expired"),
        "invalid-credentials": InvalidCredentials(),
        "throttled": LoginThrottled(42),
        "resync": ResyncRequired("too_old", 17),
        "file": FileNotFoundError("/nowhere"),
        "refused-elsewhere": ConnectionRefusedError("not the database"),
        "gaierror-elsewhere": socket.gaierror("not the database"),
    }

    @app.get("/raise/{name}")
    async def raise_it(name: str) -> None:
        raise raised[name]

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_raising_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://waxos.test") as client:
        yield client


async def test_domain_errors_become_their_responses(client: httpx.AsyncClient) -> None:
    unauthenticated = await client.get("/raise/not-authenticated")
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["WWW-Authenticate"] == "Bearer"
    assert unauthenticated.json() == {"code": "not_authenticated", "message": "access token expired"}

    invalid = await client.get("/raise/invalid-credentials")
    assert invalid.status_code == 401
    assert invalid.json() == {"code": "invalid_credentials", "message": "invalid email or password"}

    throttled = await client.get("/raise/throttled")
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "42"
    assert throttled.json() == {
        "code": "login_throttled",
        "message": "too many failed logins; retry after 42 s",
        "retry_after": 42,
    }

    resync = await client.get("/raise/resync")
    assert resync.status_code == 410
    assert resync.json() == {
        "code": "resync_required",
        "message": "the log cannot serve this position; reload state and continue from head",
        "reason": "too_old",
        "head": 17,
    }


@pytest.mark.parametrize("name", ["file", "refused-elsewhere", "gaierror-elsewhere"])
async def test_an_os_error_outside_the_database_driver_is_not_database_unavailable(
    client: httpx.AsyncClient, name: str
) -> None:
    response = await client.get(f"/raise/{name}")
    assert response.status_code == 500
    assert response.json() == {"code": "internal_error", "message": "an internal error occurred"}
