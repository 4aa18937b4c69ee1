"""The ASGI application: WebSocket `/app/{key}` and the HTTP API on one port, over the pure core.

This layer only moves bytes and owns time: it feeds frames and requests to `PusherApp` with the
current clock, then routes the core's output to the right sessions and webhooks to the sender. It
never builds protocol JSON itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

from waxos.pusher_protocol import (
    CloseCode,
    HttpRequest,
    HttpResponse,
    PusherApp,
    Send,
    handle_http,
)
from waxos.pusher_server.config import ServerConfig
from waxos.pusher_server.session import Session
from waxos.pusher_server.webhook_sender import WebhookSender

logger = logging.getLogger("waxos.pusher_server")

Scope = dict[str, Any]
Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
ASGISend = Callable[[Message], Awaitable[None]]

_WS_PREFIX = "/app/"


class _Disconnected(Exception):
    """The HTTP client left before sending its whole body."""


class PusherServer:
    """An ASGI app serving one Pusher app; build it with `create_pusher_app`."""

    def __init__(self, config: ServerConfig, *, clock: Callable[[], float] = time.time) -> None:
        self.config = config
        self.core = PusherApp(config.app)
        self._clock = clock
        self.sessions: dict[str, Session] = {}
        self._per_address: dict[str, int] = {}
        # The one timer for subscription counts held back by Pusher's 5-second throttle: (due, handle).
        self._count_timer: tuple[float, asyncio.TimerHandle] | None = None
        self.webhooks: WebhookSender | None = None
        if config.webhook_url:
            self.webhooks = WebhookSender(
                config.webhook_url,
                key=config.app.key,
                secret=config.app.secret,
                timeout=config.webhook_timeout,
                give_up_after=config.webhook_give_up_after,
            )

    async def __call__(self, scope: Scope, receive: Receive, send: ASGISend) -> None:
        kind = scope["type"]
        if kind == "http":
            await self._http(scope, receive, send)
        elif kind == "websocket":
            await self._websocket(scope, receive, send)
        elif kind == "lifespan":
            await self._lifespan(receive, send)

    # ---- lifespan ------------------------------------------------------------------------------

    async def _lifespan(self, receive: Receive, send: ASGISend) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await self.startup()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.shutdown()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def startup(self) -> None:
        """Start the webhook sender."""
        if self.webhooks is not None:
            await self.webhooks.start()

    async def shutdown(self) -> None:
        """Close every socket as Pusher does on restart (4200: reconnect now), flush webhooks."""
        now = self._clock()
        for socket_id in list(self.core.connections):
            self.core.close(socket_id, CloseCode.GENERIC_RECONNECT, "Server shutting down", now)
        self._dispatch()
        if self._count_timer is not None:
            self._count_timer[1].cancel()
            self._count_timer = None
        if self.webhooks is not None:
            await self.webhooks.aclose()

    # ---- routing core output -------------------------------------------------------------------

    def _dispatch(self) -> None:
        sessions = self.sessions
        # Acting on output can produce more: closing a slow consumer queues its Close and the
        # member_removed frames for the others. Drain until the core has nothing left, so none of it
        # waits for some unrelated later event.
        limit = self.config.max_queued_bytes
        while outputs := self.core.take_output():
            for output in outputs:
                if isinstance(output, Send):
                    text = output.text
                    # Measured once for every recipient of a fan-out; an ASCII frame is its length.
                    size = len(text) if text.isascii() else len(text.encode())
                    for socket_id in output.socket_ids:
                        session = sessions.get(socket_id)
                        if session is not None:
                            session.enqueue(text, size)
                            if session.queued_bytes > limit:
                                self._too_slow(session)
                else:
                    session = sessions.get(output.socket_id)
                    if session is not None:
                        session.request_close(output.code, output.reason)
        events = self.core.take_webhooks()
        if events and self.webhooks is not None:
            self.webhooks.submit(events)
        self._arm_count_timer()

    def _arm_count_timer(self) -> None:
        due = self.core.next_count_due()
        if self._count_timer is not None:
            if due is not None and self._count_timer[0] <= due:
                return
            self._count_timer[1].cancel()
            self._count_timer = None
        if due is not None:
            delay = max(0.0, due - self._clock())
            self._count_timer = (due, asyncio.get_running_loop().call_later(delay, self._on_count_timer))

    def _on_count_timer(self) -> None:
        self._count_timer = None
        self.core.send_due_counts(self._clock())
        self._dispatch()

    def _too_slow(self, session: Session) -> None:
        logger.warning("socket %s is not reading; disconnecting it", session.socket_id)
        # Its queued frames are not worth delivering late, nor the memory they hold: dropped now. The
        # close goes out when the socket drains (it may never); the core has forgotten it meanwhile, so
        # whatever it still sends is read and ignored.
        session.drop_queued()
        self.core.close(session.socket_id, CloseCode.OVER_CAPACITY, "Client is not reading", self._clock())

    # ---- WebSocket -----------------------------------------------------------------------------

    async def _websocket(self, scope: Scope, receive: Receive, send: ASGISend) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        socket_id, address = self._open(scope)
        session = Session(socket_id, send)
        self.sessions[socket_id] = session
        try:
            # Inside the try: a client gone before the accept must still be forgotten and uncounted.
            await send({"type": "websocket.accept"})
            self._dispatch()
            self._arm_timer(session)
            await self._read(session, receive)
        finally:
            if address is not None:
                self._uncount(address)
            self.sessions.pop(socket_id, None)
            self.core.disconnect(socket_id, self._clock())
            self._dispatch()
            await session.finish()

    def _open(self, scope: Scope) -> tuple[str, str | None]:
        """The new socket's id, and the client address it counts against (None: refused, not counted)."""
        now = self._clock()
        path: str = scope["path"]
        if not (path.startswith(_WS_PREFIX) and "/" not in path.removeprefix(_WS_PREFIX)):
            return self.core.refuse(CloseCode.PATH_NOT_FOUND, "Path not found", now), None
        client = scope.get("client")
        address = str(client[0]) if client else ""
        cap = self.config.max_connections_per_address
        if 0 < cap <= self._per_address.get(address, 0):
            # Over capacity for this address: pusher-js backs off and tries again.
            reason = "Too many connections from this address"
            return self.core.refuse(CloseCode.OVER_CAPACITY, reason, now), None
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        socket_id = self.core.connect(path.removeprefix(_WS_PREFIX), query, now)
        self._per_address[address] = self._per_address.get(address, 0) + 1
        return socket_id, address

    def _uncount(self, address: str) -> None:
        remaining = self._per_address.pop(address) - 1
        if remaining:
            self._per_address[address] = remaining

    async def _read(self, session: Session, receive: Receive) -> None:
        socket_id = session.socket_id
        core = self.core
        while True:
            message = await receive()
            if message["type"] != "websocket.receive":
                return
            text = message.get("text")
            if text is not None:
                core.receive_text(socket_id, text, self._clock())
            else:
                core.receive_binary(socket_id, self._clock())
            self._dispatch()

    def _arm_timer(self, session: Session) -> None:
        deadline = self.core.next_deadline(session.socket_id)
        if deadline is None:
            session.set_timer(None)
            return
        loop = asyncio.get_running_loop()
        delay = max(0.0, deadline - self._clock())
        session.set_timer(loop.call_later(delay, self._on_timer, session))

    def _on_timer(self, session: Session) -> None:
        # Activity since arming only moved the deadline later: the core answers NOTHING then and
        # the timer is re-armed for the new deadline, so frames never touch the timer themselves.
        self.core.on_deadline(session.socket_id, self._clock())
        self._dispatch()
        self._arm_timer(session)

    # ---- HTTP API ------------------------------------------------------------------------------

    async def _http(self, scope: Scope, receive: Receive, send: ASGISend) -> None:
        try:
            body = await self._read_body(receive)
        except _Disconnected:
            return
        if body is None:
            response = HttpResponse.text(413, "Request body too large")
        else:
            raw_path = scope.get("raw_path") or scope["path"].encode()
            request = HttpRequest(
                method=scope["method"],
                path=raw_path.decode("latin-1"),
                query=scope.get("query_string", b"").decode("latin-1"),
                body=body,
            )
            response = handle_http(self.core, request, self._clock())
            self._dispatch()
        await send(
            {
                "type": "http.response.start",
                "status": response.status,
                "headers": [
                    (b"content-type", response.content_type.encode()),
                    (b"content-length", str(len(response.body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": response.body})

    async def _read_body(self, receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        too_large = False
        while True:
            message = await receive()
            if message["type"] != "http.request":
                raise _Disconnected
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.config.max_http_body_bytes:
                too_large = True
            elif chunk:
                chunks.append(chunk)
            if not message.get("more_body", False):
                return None if too_large else b"".join(chunks)


def create_pusher_app(config: ServerConfig) -> PusherServer:
    """The ASGI app for `config`; resources start in its lifespan, not here."""
    return PusherServer(config)
