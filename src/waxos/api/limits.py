"""Request body limits: a body larger than its route allows is refused with 413 as it arrives.

FastAPI reads a whole JSON body into memory before validating it, so without a limit one request could
make the process hold gigabytes. This middleware only counts bytes as the app reads them and raises
`HTTPException(413)` from `receive`, which reaches the error translator like any other error (the JSON
error body). FastAPI's own `max_body_size` answers a too-large declared `Content-Length` with a plain
text body of its own instead, past the translator, which is why it is not used.
"""

from __future__ import annotations

from collections.abc import Mapping

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

DEFAULT_MAX_BODY_BYTES = 64 * 1024
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BodyLimit:
    """ASGI middleware: at most `default` body bytes per request, or the limit of the longest path prefix
    in `prefixes` that the request's path starts with."""

    def __init__(
        self, app: ASGIApp, default: int = DEFAULT_MAX_BODY_BYTES, prefixes: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.default = default
        self.prefixes = sorted((prefixes or {}).items(), key=lambda item: len(item[0]), reverse=True)

    def limit_for(self, path: str) -> int:
        """The body limit of `path`."""
        for prefix, limit in self.prefixes:
            if path.startswith(prefix):
                return limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in _BODY_METHODS:
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        for name, value in scope["headers"]:
            # Compared as text first: int() refuses numbers of thousands of digits (ValueError: a 500).
            if name == b"content-length" and value.isdigit() and _exceeds(value.lstrip(b"0"), limit):
                receive = _refusing(limit)
                break
        else:
            receive = _counting(receive, limit)
        await self.app(scope, receive, send)


def _exceeds(digits: bytes, limit: int) -> bool:
    """True when the decimal `digits` (no leading zeros) name a number above `limit`."""
    bound = str(limit).encode()
    return len(digits) > len(bound) or (len(digits) == len(bound) and digits > bound)


def _too_large(limit: int) -> HTTPException:
    return HTTPException(413, f"the request body must be at most {limit} bytes")


def _refusing(limit: int) -> Receive:
    async def receive() -> Message:
        raise _too_large(limit)

    return receive


def _counting(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _too_large(limit)
        return message

    return counted
