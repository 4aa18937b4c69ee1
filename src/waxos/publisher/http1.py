"""A small keep-alive HTTP/1.1 client on asyncio streams: the relay's way to Pusher's HTTP API.

Why not httpx: profiling the relay showed httpx/httpcore/anyio spending about 1.6 ms of CPU on each
request to a server on the same machine, against 0.4 ms for the whole round trip over a plain stream,
so the relay's throughput and its commit-to-receipt latency were bounded by its HTTP client. Pusher's
API needs very little of HTTP: a signed GET or POST with a small JSON body, answered with a small body.
That is all this client does: one connection per request in flight, reused while the server keeps it
open; TLS through `ssl`; answers delimited by Content-Length, chunked encoding or the connection's end.
No proxies, redirects, cookies, compression or HTTP/2: `PusherService` keeps using httpx when a proxy is
configured in the environment, or when it is given an httpx client.

It raises only `TransportError`, like the httpx backend, so the publisher classifies outcomes in one place.

A request on a reused keep-alive connection that the server closed before answering is sent again on a
fresh one. For a POST, Pusher may already have accepted the first copy, so an event can be published
twice: acceptable, because delivery is at-least-once and clients deduplicate by `seq` (docs/guarantees.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from waxos.publisher.transport import (
    RawResponse,
    SignedRequest,
    TransportError,
    TransportFailure,
)

_MAX_HEADER_BYTES = 64 * 1024
_MAX_BODY_BYTES = 16 * 1024 * 1024


class _Unusable(Exception):
    """A reused connection turned out closed before any byte of the answer: try a fresh one."""


@dataclass(eq=False)
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    def usable(self) -> bool:
        return not self.reader.at_eof() and not self.writer.is_closing()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


@dataclass
class _Origin:
    idle: list[_Connection] = field(default_factory=list)


class Http1Pool:
    """Keep-alive connections per origin (scheme, host, port), at most `max_connections` busy at once."""

    def __init__(self, max_connections: int = 20, ssl_context: ssl.SSLContext | None = None) -> None:
        self._limit = asyncio.Semaphore(max_connections)
        self._max_idle = max_connections
        self._origins: dict[tuple[str, str, int], _Origin] = {}
        self._ssl_context = ssl_context
        self._closed = False

    async def request(
        self, method: str, url: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """Send one request and read its whole answer: (status, lower-cased headers, body).

        Raises `OSError`, `asyncio.IncompleteReadError` or `ValueError` (a malformed answer); the caller
        bounds the time.
        """
        parts = urlsplit(url)
        scheme = parts.scheme
        if scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"unsupported URL scheme or host: {scheme}://{parts.hostname}")
        host = parts.hostname
        port = parts.port or (443 if scheme == "https" else 80)
        target = parts.path or "/"
        if parts.query:
            target = f"{target}?{parts.query}"
        default_port = port == (443 if scheme == "https" else 80)
        head = [f"{method} {target} HTTP/1.1", f"Host: {host if default_port else f'{host}:{port}'}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        if body or method not in ("GET", "HEAD"):
            head.append(f"Content-Length: {len(body)}")
        payload = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
        origin = self._origins.setdefault((scheme, host, port), _Origin())
        async with self._limit:
            while origin.idle:
                connection = origin.idle.pop()
                if not connection.usable():
                    connection.close()
                    continue
                try:
                    return await self._exchange(origin, connection, payload, method, reused=True)
                except _Unusable:
                    continue
            connection = await self._connect(scheme, host, port)
            return await self._exchange(origin, connection, payload, method, reused=False)

    async def aclose(self) -> None:
        """Close every idle connection; connections in use close when their request ends."""
        self._closed = True
        for origin in self._origins.values():
            while origin.idle:
                origin.idle.pop().close()

    async def _connect(self, scheme: str, host: str, port: int) -> _Connection:
        context: ssl.SSLContext | None = None
        if scheme == "https":
            context = self._ssl_context or ssl.create_default_context()
        reader, writer = await asyncio.open_connection(
            host, port, ssl=context, server_hostname=host if context else None, limit=_MAX_HEADER_BYTES
        )
        sock = writer.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return _Connection(reader, writer)

    async def _exchange(
        self, origin: _Origin, connection: _Connection, payload: bytes, method: str, *, reused: bool
    ) -> tuple[int, dict[str, str], bytes]:
        keep = False
        try:
            try:
                connection.writer.write(payload)
                await connection.writer.drain()
                status, headers = await _read_head(connection.reader)
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                if reused and not getattr(exc, "partial", b""):
                    # The server closed the idle connection as we reused it; it read nothing of ours.
                    raise _Unusable from exc
                raise
            body, keep = await _read_body(connection.reader, headers, method, status)
            keep = keep and headers.get("connection", "").lower() != "close"
            return status, headers, body
        finally:
            if keep and not self._closed and len(origin.idle) < self._max_idle:
                origin.idle.append(connection)
            else:
                connection.close()


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
    while True:
        raw = await reader.readuntil(b"\r\n\r\n")
        lines = raw.decode("latin-1").split("\r\n")
        version, _, rest = lines[0].partition(" ")
        code = rest[:3]
        if not version.startswith("HTTP/1.") or not code.isdigit():
            raise ValueError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if not line:
                continue
            name, sep, value = line.partition(":")
            if not sep:
                raise ValueError(f"malformed header line: {line[:80]!r}")
            key = name.strip().lower()
            value = value.strip()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        status = int(code)
        if 100 <= status < 200 and status != 101:
            continue  # an interim answer (100 Continue): the real one follows
        return status, headers


async def _read_body(
    reader: asyncio.StreamReader, headers: dict[str, str], method: str, status: int
) -> tuple[bytes, bool]:
    """The body, and whether the connection can carry another request."""
    if method == "HEAD" or status in (204, 304):
        return b"", True
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks: list[bytes] = []
        size_total = 0
        while True:
            line = await reader.readuntil(b"\r\n")
            size = int(line.split(b";", 1)[0].strip(), 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":
                    pass  # trailers
                return b"".join(chunks), True
            size_total += size
            if size_total > _MAX_BODY_BYTES:
                raise ValueError("answer too large")
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
    length = headers.get("content-length")
    if length is not None:
        count = int(length)
        if count < 0 or count > _MAX_BODY_BYTES:
            raise ValueError(f"bad Content-Length {length!r}")
        return await reader.readexactly(count), True
    body = await reader.read(_MAX_BODY_BYTES + 1)
    rest = [body]
    while body:
        body = await reader.read(_MAX_BODY_BYTES + 1)
        rest.append(body)
    whole = b"".join(rest)
    if len(whole) > _MAX_BODY_BYTES:
        raise ValueError("answer too large")
    return whole, False


class Http1Backend:
    """The SDK backend over `Http1Pool`, bounded by a total deadline like `HttpxBackend`."""

    def __init__(self, client: Any, pool: Http1Pool, deadline_seconds: float) -> None:
        self._pool = pool
        self._deadline = deadline_seconds

    async def send_request(self, request: SignedRequest) -> RawResponse:
        """The SDK's hook: `send` within the configured deadline."""
        return await self.send(request, self._deadline)

    async def send(self, request: SignedRequest, time_limit: float) -> RawResponse:
        """Send one signed request; raise `TransportError` when no answer arrives within `time_limit` s."""
        query = urlencode(request.query_params, quote_via=quote)
        url = f"{request.base_url}{request.path}" + (f"?{query}" if query else "")
        try:
            async with asyncio.timeout(time_limit):
                status, headers, body = await self._pool.request(
                    request.method, url, dict(request.headers), request.body or b""
                )
        except TimeoutError as exc:
            raise TransportError(TransportFailure.TIMEOUT, f"no answer within {time_limit:g}s") from exc
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
            detail = str(exc) or type(exc).__name__
            raise TransportError(TransportFailure.UNREACHABLE, detail[:200]) from exc
        return RawResponse(status, body.decode("utf-8", errors="replace"), headers.get("retry-after"))
