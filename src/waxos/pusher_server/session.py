"""One WebSocket's pump: frames in to the core, queued frames out in order, its liveness timer.

An idle connection costs no task: a flusher task exists only while frames are queued, and the
liveness timer is a loop `TimerHandle`. That is what lets one process hold ten thousand sockets.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

ASGISend = Callable[[dict[str, Any]], Awaitable[None]]

logger = logging.getLogger("waxos.pusher_server")


class Session:
    """Writes to one socket in order; closing waits for what was queued before it."""

    __slots__ = ("_closed", "_closing", "_flusher", "_queue", "_send", "_timer", "socket_id")

    def __init__(self, socket_id: str, send: ASGISend) -> None:
        self.socket_id = socket_id
        self._send = send
        self._queue: deque[str] = deque()
        self._flusher: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._closing: tuple[int, str] | None = None
        self._closed = False

    @property
    def queued(self) -> int:
        """Frames waiting to be written."""
        return len(self._queue)

    def enqueue(self, text: str) -> None:
        """Queue a frame; frames after a close request are dropped, as the socket is going."""
        if self._closing is None and not self._closed:
            self._queue.append(text)
            self._kick()

    def request_close(self, code: int, reason: str) -> None:
        """Close after the frames already queued (a `pusher:error` usually precedes the close)."""
        if self._closing is None and not self._closed:
            self._closing = (code, reason)
            self._kick()

    def set_timer(self, handle: asyncio.TimerHandle | None) -> None:
        """Replace the liveness timer."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer = handle

    def _kick(self) -> None:
        if self._flusher is None:
            self._flusher = asyncio.get_running_loop().create_task(self._flush())

    async def _flush(self) -> None:
        try:
            while self._queue:
                await self._send({"type": "websocket.send", "text": self._queue.popleft()})
            if self._closing is not None:
                code, reason = self._closing
                self._closed = True
                await self._send({"type": "websocket.close", "code": code, "reason": reason})
        except (OSError, RuntimeError):
            # The peer went away mid-write; the reader sees the disconnect and cleans up.
            self._queue.clear()
            self._closed = True
        except Exception:
            # A frame the socket cannot carry is a bug here, not the peer's doing: said in the log and
            # the socket closed (1011), rather than a task dying with nobody to hear it.
            logger.exception("cannot write to socket %s; closing it", self.socket_id)
            self._queue.clear()
            self._closed = True
            with contextlib.suppress(Exception):
                await self._send({"type": "websocket.close", "code": 1011, "reason": "Internal error"})
        finally:
            self._flusher = None

    async def finish(self) -> None:
        """The socket is gone: stop the timer and any write in progress, without leaking a task."""
        self._closed = True
        self._queue.clear()
        self.set_timer(None)
        flusher = self._flusher
        if flusher is not None:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
