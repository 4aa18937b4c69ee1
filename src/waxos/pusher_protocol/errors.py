"""Pusher error and close codes, and the exceptions the core raises for bad input."""

from __future__ import annotations

import enum


class CloseCode(enum.IntEnum):
    """WebSocket close codes and `pusher:error` codes, grouped as pusher-js reacts to them.

    4000-4099: the client must not reconnect as it is. 4100-4199: reconnect after backing off.
    4200-4299: reconnect at once. 4300-4399: other errors; as a close code pusher-js gives up.
    """

    APP_NOT_FOUND = 4001
    APP_DISABLED = 4003
    PATH_NOT_FOUND = 4005
    INVALID_VERSION = 4006
    UNSUPPORTED_PROTOCOL = 4007
    NO_PROTOCOL = 4008
    UNAUTHORIZED = 4009
    OVER_CAPACITY = 4100
    GENERIC_RECONNECT = 4200
    PONG_NOT_RECEIVED = 4201
    CLOSED_AFTER_INACTIVITY = 4202
    CLIENT_EVENT_RATE_LIMIT = 4301
    WATCHLIST_LIMIT = 4302


MAX_ECHO = 200
"""Most characters of client input an error message repeats: enough to recognise it, never a flood."""


def excerpt(value: object, limit: int = MAX_ECHO) -> str:
    """`value` as text, cut to `limit` characters (marked with an ellipsis) for an error message."""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else f"{text[:limit]}…"


class PusherProtocolError(Exception):
    """Base class of the errors raised by the protocol core."""


class FrameError(PusherProtocolError):
    """A client frame the server answers with `pusher:error` while keeping the connection."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class HttpError(PusherProtocolError):
    """An HTTP API request refused with `status` and Pusher's plain-text reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
