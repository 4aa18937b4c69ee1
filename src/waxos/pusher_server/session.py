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

    __slots__ = (
        "_closed",
        "_closing",
        "_flusher",
        "_queue",
        "_queued_bytes",
        "_send",
        "_timer",
        "socket_id",
    )

    def __init__(self, socket_id: str, send: ASGISend) -> None:
        self.socket_id = socket_id
        self._send = send
        # Frames with their size in bytes: a client that does not read is measured by what it costs.
        self._queue: deque[tuple[str, int]] = deque()
        self._queued_bytes = 0
        self._flusher: asyncio.Task[None] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._closing: tuple[int, str] | None = None
        self._closed = False

    @property
    def queued_bytes(self) -> int:
        """Bytes of the frames waiting to be written."""
        return self._queued_bytes

    def enqueue(self, text: str, size: int) -> None:
        """Queue a frame of `size` bytes; frames after a close request are dropped, as the socket is going."""
        if self._closing is None and not self._closed:
            self._queue.append((text, size))
            self._queued_bytes += size
            self._kick()

    def drop_queued(self) -> None:
        """Forget the frames not yet written: a client too slow to read them is not worth them."""
        self._queue.clear()
        self._queued_bytes = 0

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
                text, size = self._queue.popleft()
                self._queued_bytes -= size
                await self._send({"type": "websocket.send", "text": text})
            if self._closing is not None:
                code, reason = self._closing
                self._closed = True
                await self._send({"type": "websocket.close", "code": code, "reason": reason})
        except (OSError, RuntimeError):
            # The peer went away mid-write; the reader sees the disconnect and cleans up.
            self.drop_queued()
            self._closed = True
        except Exception:
            # A frame the socket cannot carry is a bug here, not the peer's doing: said in the log and
            # the socket closed (1011), rather than a task dying with nobody to hear it.
            logger.exception("cannot write to socket %s; closing it", self.socket_id)
            self.drop_queued()
            self._closed = True
            with contextlib.suppress(Exception):
                await self._send({"type": "websocket.close", "code": 1011, "reason": "Internal error"})
        finally:
            self._flusher = None

    async def finish(self) -> None:
        """The socket is gone: stop the timer and any write in progress, without leaking a task."""
        self._closed = True
        self.drop_queued()
        self.set_timer(None)
        flusher = self._flusher
        if flusher is not None:
            flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
