"""Pytest plugin: a running local Pusher server, and a webhook receiver, for any test package.

Registered from `tests/conftest.py`. The server runs in a thread with its own event loop, so sync
tests (the official `pusher` SDK blocks) and async tests can both talk to it over real sockets.

    def test_x(local_pusher: LocalPusher) -> None:
        local_pusher.sdk().trigger("my-channel", "my-event", {"a": 1})

`running_local_pusher(...)` is the same thing as a context manager, for other configurations.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pusher
import pytest

from tests.support.environment import free_port
from waxos.pusher_protocol import AppConfig
from waxos.pusher_server import PusherServer, ServerConfig
from waxos.pusher_server.runner import QuietServer, uvicorn_config

APP_ID = "100001"
KEY = "waxos-dev-key"
SECRET = "waxos-dev-secret"


class _ThreadServer(QuietServer):
    loop: asyncio.AbstractEventLoop | None = None

    async def serve(self, sockets: Any = None) -> None:
        self.loop = asyncio.get_running_loop()
        await super().serve(sockets)


@dataclass
class LocalPusher:
    """A local Pusher server listening on `host:port` for app `app_id`/`key`/`secret`."""

    host: str
    port: int
    app_id: str
    key: str
    secret: str
    app: PusherServer
    _server: _ThreadServer = field(repr=False)

    def ws_url(self, *, key: str | None = None, query: str = "protocol=7&client=js&version=8.6.0") -> str:
        """The WebSocket URL pusher-js would open."""
        return f"ws://{self.host}:{self.port}/app/{key or self.key}?{query}"

    @property
    def http_url(self) -> str:
        """Base URL of the HTTP API."""
        return f"http://{self.host}:{self.port}"

    def sdk(self, **overrides: Any) -> pusher.Pusher:
        """An official Python SDK client pointed at this server."""
        options: dict[str, Any] = {
            "app_id": self.app_id,
            "key": self.key,
            "secret": self.secret,
            "host": self.host,
            "port": self.port,
            "ssl": False,
        }
        options.update(overrides)
        return pusher.Pusher(**options)

    def node_options(self, **extra: Any) -> dict[str, Any]:
        """Connection options for the Node drivers in tests/e2e/js."""
        options: dict[str, Any] = {
            "key": self.key,
            "host": self.host,
            "port": self.port,
            "appId": self.app_id,
            "secret": self.secret,
        }
        options.update(extra)
        return options

    def call(self, fn: Any, *args: Any) -> Any:
        """Run `fn(*args)` on the server's event loop and return its result (for inspection)."""
        loop = self._server.loop
        assert loop is not None

        async def invoke() -> Any:
            return fn(*args)

        return asyncio.run_coroutine_threadsafe(invoke(), loop).result(timeout=5)

    def task_count(self) -> int:
        """Tasks alive on the server's loop, besides uvicorn's own main task."""
        return int(self.call(lambda: len(asyncio.all_tasks())))

    def wait_until(self, predicate: Any, timeout: float = 5.0) -> None:
        """Poll `predicate()` (run on the server loop) until true, or fail."""
        deadline = time.monotonic() + timeout
        while not self.call(predicate):
            if time.monotonic() > deadline:
                pytest.fail(f"condition not met within {timeout}s")
            time.sleep(0.01)


@contextlib.contextmanager
def running_local_pusher(
    *,
    webhook_url: str | None = None,
    app_id: str = APP_ID,
    key: str = KEY,
    secret: str = SECRET,
    enable_client_events: bool = True,
    server_options: dict[str, Any] | None = None,
    **app_options: Any,
) -> Iterator[LocalPusher]:
    """Start a local Pusher server on a free port in a thread; stop it on exit.

    `app_options` go to `AppConfig`, `server_options` to `ServerConfig` (the adapter's own limits).
    """
    app = AppConfig(
        app_id=app_id,
        key=key,
        secret=secret,
        enable_client_events=enable_client_events,
        **app_options,
    )
    config = ServerConfig(
        app=app, host="127.0.0.1", port=free_port(), webhook_url=webhook_url, **(server_options or {})
    )
    uv_config = uvicorn_config(config, log_level="error")
    asgi_app = uv_config.app
    assert isinstance(asgi_app, PusherServer)
    server = _ThreadServer(uv_config)
    thread = threading.Thread(target=server.run, name="local-pusher", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the local Pusher server did not start")
        time.sleep(0.005)
    try:
        yield LocalPusher(config.host, config.port, app_id, key, secret, asgi_app, server)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


@pytest.fixture
def local_pusher() -> Iterator[LocalPusher]:
    """A fresh local Pusher server (client events on, no webhooks) for one test."""
    with running_local_pusher() as server:
        yield server


@dataclass
class WebhookReceiver:
    """Collects webhook POSTs; answers `fail_first` of them with 500 to exercise retries."""

    url: str
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    fail_first: int = 0
    attempts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def events(self) -> list[dict[str, Any]]:
        """Every event received so far, in arrival order."""
        with self.lock:
            bodies = [json.loads(body) for _, body in self.requests]
        return [event for body in bodies for event in body["events"]]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        """Wait until at least `count` events arrived; return them all."""
        deadline = time.monotonic() + timeout
        while len(self.events()) < count:
            if time.monotonic() > deadline:
                pytest.fail(f"expected {count} webhook events, got {self.events()}")
            time.sleep(0.01)
        return self.events()


@pytest.fixture
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """An HTTP server on a free port recording webhooks (headers and raw bodies)."""
    port = free_port()
    receiver = WebhookReceiver(url=f"http://127.0.0.1:{port}/webhooks")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with receiver.lock:
                receiver.attempts += 1
                failing = receiver.attempts <= receiver.fail_first
                if not failing:
                    receiver.requests.append((dict(self.headers.items()), body))
            self.send_response(500 if failing else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Keep test output quiet."""

    httpd = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)
