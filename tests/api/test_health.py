"""Health endpoints through HTTP, with the app's real lifespan and database."""

from __future__ import annotations

from tests.support.asgi import asgi_client
from tests.support.environment import free_port
from tests.support.settings import make_settings
from waxos.app import create_app
from waxos.config import Environment


async def test_live_and_ready_on_a_working_database(database_url: str) -> None:
    async with asgi_client(create_app(make_settings(database_url=database_url))) as client:
        assert (await client.get("/health/live")).json() == {"status": "ok"}
        ready = await client.get("/health/ready")
        assert ready.status_code == 200 and ready.json()["database"] == "ok"


async def test_ready_is_503_when_the_database_is_unreachable() -> None:
    url = f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/none"
    async with asgi_client(create_app(make_settings(database_url=url))) as client:
        assert (await client.get("/health/live")).status_code == 200
        ready = await client.get("/health/ready")
        assert ready.status_code == 503 and ready.json()["status"] == "unavailable"


async def test_metrics_are_exposed_in_prometheus_text(tmp_path) -> None:
    settings = make_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    async with asgi_client(create_app(settings)) as client:
        body = (await client.get("/metrics")).text
    assert "waxos_publish_failure_ratio" in body


async def test_metrics_are_served_to_the_internal_network_only(tmp_path) -> None:
    """The API's port faces browsers: a client outside WAXOS_METRICS_NETWORKS gets 403 and no counts."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'w.db'}"
    default = create_app(make_settings(database_url=url))
    for address, status in (("10.1.2.3", 200), ("::1", 200), ("203.0.113.9", 403), ("2001:db8::1", 403)):
        async with asgi_client(default, address=(address, 5000)) as client:
            answer = await client.get("/metrics")
        assert answer.status_code == status, address
        assert ("waxos_publish_failure_ratio" in answer.text) is (status == 200)
    narrowed = create_app(make_settings(database_url=url, waxos_metrics_networks="192.0.2.0/24"))
    for address, status in (("192.0.2.7", 200), ("127.0.0.1", 403)):
        async with asgi_client(narrowed, address=(address, 5000)) as client:
            assert (await client.get("/metrics")).status_code == status, address


async def test_the_interactive_api_docs_are_served_in_development_only(tmp_path) -> None:
    """/docs and /redoc run CDN scripts on the console's origin: not outside development."""
    settings = make_settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'w.db'}")
    production = settings.model_copy(update={"waxos_env": Environment.PRODUCTION})
    async with asgi_client(create_app(settings)) as client:
        assert [(await client.get(path)).status_code for path in ("/docs", "/redoc")] == [200, 200]
    async with asgi_client(create_app(production)) as client:
        assert [(await client.get(path)).status_code for path in ("/docs", "/redoc")] == [404, 404]
        assert (await client.get("/openapi.json")).status_code == 200
