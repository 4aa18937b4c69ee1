"""Serve a `PusherServer` with uvicorn until SIGINT or SIGTERM, logging one start-up line."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Iterator

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
        log_config=None,
        access_log=False,
        server_header=False,
        timeout_graceful_shutdown=5,
        backlog=4096,
    )


class QuietServer(uvicorn.Server):
    """uvicorn without its own signal capture: it re-raises the signal after shutdown, which would
    turn a requested stop into a non-zero exit. The owner installs handlers instead."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Install nothing; see the class docstring."""
        yield


def describe(config: ServerConfig) -> str:
    """The start-up line: where to connect and what is on; never the secret."""
    app = config.app
    return (
        f"Local Pusher server on ws://{config.host}:{config.port}/app/{app.key} and "
        f"http://{config.host}:{config.port}/apps/{app.app_id} "
        f"(client events {'on' if app.enable_client_events else 'off'}, "
        f"subscription counting {'on' if app.enable_subscription_count else 'off'}, "
        f"webhooks {config.webhook_url or 'off'})"
    )


async def serve(config: ServerConfig) -> None:
    """Serve until SIGINT or SIGTERM, then shut down gracefully (sockets get close code 4200)."""
    server = QuietServer(uvicorn_config(config))
    # A process of its own: thousands of long-lived socket objects make full collections slow
    # enough to show as fan-out latency spikes, so start-up objects are frozen and the oldest
    # generation collected less often. (Not done in the app: embedders own their process's GC.)
    gc.freeze()
    gc.set_threshold(50_000, 50, 100)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, server.handle_exit, signum, None)
    logger.info("%s", describe(config))
    await server.serve()
    logger.info("Local Pusher server stopped")


def run(config: ServerConfig) -> None:
    """Serve `config` in a new event loop until interrupted."""
    asyncio.run(serve(config))
