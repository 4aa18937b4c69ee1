"""Serve a `PusherServer` with uvicorn until SIGINT or SIGTERM, logging one start-up line."""

from __future__ import annotations

import logging

import uvicorn

from waxos.pusher_server.app import create_pusher_app
from waxos.pusher_server.config import ServerConfig

logger = logging.getLogger("waxos.pusher_server")


def uvicorn_config(config: ServerConfig, *, log_level: str = "warning") -> uvicorn.Config:
    """The uvicorn settings the local server runs with, shared by `run` and the test fixtures."""
    return uvicorn.Config(
        create_pusher_app(config),
        host=config.host,
        port=config.port,
        # The websockets library's sans-I/O protocol: the lightest per-socket footprint uvicorn offers.
        ws="websockets-sansio",
        ws_max_size=config.max_ws_frame_bytes,
        # Liveness is the Pusher protocol's (pusher:ping, close 4201), decided by the core.
        ws_ping_interval=None,
        ws_per_message_deflate=False,
        lifespan="on",
        log_level=log_level,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=5,
        backlog=4096,
    )


def describe(config: ServerConfig) -> str:
    """The start-up line: where to connect and what is on; never the secret."""
    app = config.app
    return (
        f"Local Pusher server on ws://{config.host}:{config.port}/app/{app.key} and "
        f"http://{config.host}:{config.port}/apps/{app.app_id} "
        f"(client events {'on' if app.enable_client_events else 'off'}, "
        f"webhooks {config.webhook_url or 'off'})"
    )


def run(config: ServerConfig) -> None:
    """Serve until interrupted; uvicorn turns SIGINT/SIGTERM into a graceful shutdown."""
    server = uvicorn.Server(uvicorn_config(config))
    logger.info("%s", describe(config))
    server.run()
