"""The application factory: `create_app(settings)` and the lifespan that owns every long-lived resource."""

from __future__ import annotations

import gc
import ipaddress
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from waxos import __version__
from waxos.api.cors import install_cors
from waxos.api.errors import install_error_handlers
from waxos.api.limits import BodyLimit
from waxos.api.router import include_routers
from waxos.auth.guard import AddressThrottle, HashingPool
from waxos.config import Environment, Settings
from waxos.db.engine import make_engine, make_sessionmaker, read_only
from waxos.inbox.announcements import AnnouncementWorker
from waxos.metrics import ServiceMetrics
from waxos.providers.registry import ProviderServices
from waxos.publisher.credentials import CredentialsRefused, check_credentials
from waxos.publisher.service import PusherService
from waxos.relay.relay import start_relay
from waxos.usage.live import live_snapshot
from waxos.usage.metrics import UsageMetrics
from waxos.usage.recorder import recorder_for
from waxos.webhooks.receiver import WebhookReceiver
from waxos.webhooks.routes import MAX_WEBHOOK_BYTES

logger = logging.getLogger(__name__)

# The browser client bundle (clients/js, built by scripts/setup), served at /static by api/console.py.
CLIENT_BUNDLE = Path(__file__).parent / "static" / "waxos-realtime.js"


async def _check_pusher(pusher: PusherService, settings: Settings) -> None:
    """Stop start-up when Pusher refuses our credentials; only warn when it cannot be reached (D2)."""
    outcome = await check_credentials(pusher, settings)
    if outcome.refused:
        raise CredentialsRefused(f"Pusher refused our credentials: {outcome.line}")
    if outcome.result.ok:
        logger.info("pusher %s", outcome.line)
    else:
        logger.warning("pusher check %s; events wait in the log until it answers", outcome.line)


def create_app(settings: Settings, *, freeze_gc: bool = False) -> FastAPI:
    """Build the API for `settings`; nothing is connected until the lifespan starts.

    `freeze_gc` (for a serving process, not for tests that build many apps) moves everything start-up
    allocated out of the collector's reach: otherwise requests keep triggering full collections of that
    heap, which stall requests (measured by `bench/auth.py`: docs/benchmarks.md, "Channel authorization").
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url, show_parameters=settings.waxos_log_sql_parameters)
        pusher = PusherService(settings)
        app.state.settings = settings
        app.state.engine = engine
        app.state.sessions = make_sessionmaker(engine)
        app.state.read_sessions = make_sessionmaker(read_only(engine))
        app.state.pusher = pusher
        app.state.providers = ProviderServices.from_settings(settings, app.state.read_sessions, pusher)
        app.state.metrics = ServiceMetrics(pusher.metrics.registry)
        # In front of password hashing: see waxos/auth/guard.py.
        app.state.login_throttle = AddressThrottle(settings.waxos_login_attempts_per_minute)
        app.state.hashing = HashingPool(
            settings.waxos_login_hashing_threads, settings.waxos_login_hashing_queue
        )
        logger.info("waxos %s starting: %s", __version__, settings.summary())
        if not CLIENT_BUNDLE.is_file():
            logger.warning("/static/waxos-realtime.js is not built (scripts/setup builds it with npm)")
        for provider in app.state.providers.configured:
            service = app.state.providers.service(provider)
            await _check_pusher(service, service.settings)
        relay = usage = None
        if settings.waxos_run_relay:
            relay = await start_relay(settings, engine, app.state.providers)
            # Usage is rolled up beside the relay, which prunes the log it counts (see usage/recorder.py).
            usage_metrics = UsageMetrics(settings, pusher.metrics.registry)
            usage = recorder_for(settings, engine, live_snapshot, usage_metrics)
            await usage.start()
        app.state.webhooks = WebhookReceiver(app.state.sessions)
        announcements = app.state.announcements = AnnouncementWorker(app.state.sessions)
        announcements.start()
        if freeze_gc:
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            await announcements.aclose()
            if usage is not None:
                await usage.aclose()
            if relay is not None:
                await relay.aclose()
            await app.state.providers.aclose()
            app.state.hashing.close()
            await engine.dispose()
            logger.info("waxos stopped")

    # The interactive docs pages load Swagger UI and ReDoc from a CDN, unpinned, on the console's origin
    # (whose session token they could read): development only. /openapi.json stays (plain JSON).
    development = settings.waxos_env is Environment.DEVELOPMENT
    app = FastAPI(
        title="WAXOS real-time API",
        version=__version__,
        lifespan=lifespan,
        docs_url="/docs" if development else None,
        redoc_url="/redoc" if development else None,
    )
    install_error_handlers(app)
    install_cors(app, settings)
    app.add_middleware(BodyLimit, prefixes={"/api/v1/pusher/webhooks": MAX_WEBHOOK_BYTES})
    include_routers(app)

    metrics_networks = settings.metrics_networks

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        # Operational counts are nobody's business outside the internal network (docs/security.md).
        if not _address_in(request.client.host if request.client else None, metrics_networks):
            return Response("metrics are served to the internal network only\n", status_code=403)
        return Response(generate_latest(app.state.pusher.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


def _address_in(host: str | None, networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    """Whether the client address `host` is in one of `networks` (no address, or not an IP: no)."""
    try:
        address = ipaddress.ip_address(host or "")
    except ValueError:
        return False
    return any(address in network for network in networks)
