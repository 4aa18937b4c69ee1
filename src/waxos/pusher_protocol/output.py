"""What the core asks of its adapter: frames to write and sockets to close, as values."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Send:
    """Write `text` to each of `socket_ids`; one encoding shared by every recipient of a fan-out."""

    socket_ids: list[str]
    text: str


@dataclass(frozen=True, slots=True)
class Close:
    """Close the socket with a WebSocket close code; the app has already forgotten it."""

    socket_id: str
    code: int
    reason: str


Output = Send | Close
