"""The transport contract between the SDK and our HTTP clients, and the httpx backend.

The SDK signs each request and hands it to `backend.send_request`; its bundled aiohttp backend opens a
new session per call, so we plug in our own. Backends return the raw status and body and raise only
`TransportError`, so the publisher decides what each outcome means, in one place. The default backend is
`http1.Http1Backend` (see there why); `HttpxBackend` serves injected clients and proxied environments.
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass
from typing import Any, Protocol

import httpx


class TransportFailure(enum.StrEnum):
    """Why no HTTP answer came back."""

    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"


class TransportError(Exception):
    """No HTTP answer: the host was unreachable (refused, DNS, reset) or did not answer in time."""

    def __init__(self, failure: TransportFailure, detail: str) -> None:
        self.failure = failure
        self.detail = detail
        super().__init__(f"{failure.value}: {detail}")


@dataclass(frozen=True, slots=True)
class RawResponse:
    """Status, body text and the headers we act on."""

    status: int
    text: str
    retry_after: str | None = None


class SignedRequest(Protocol):
    """What the SDK's `pusher.http.Request` gives a backend."""

    method: str
    path: str
    body: bytes
    query_params: dict[str, str]

    @property
    def base_url(self) -> str: ...

    @property
    def headers(self) -> dict[str, str]: ...


class HttpxBackend:
    """An SDK backend over a shared, keep-alive `httpx.AsyncClient`, bounded by a total deadline."""

    def __init__(self, client: Any, http: httpx.AsyncClient, deadline_seconds: float) -> None:
        self._http = http
        self._deadline = deadline_seconds

    async def send_request(self, request: SignedRequest) -> RawResponse:
        """The SDK's hook: `send` within the configured deadline."""
        return await self.send(request, self._deadline)

    async def send(self, request: SignedRequest, time_limit: float) -> RawResponse:
        """Send one signed request; raise `TransportError` when no answer arrives within `time_limit` s."""
        url = f"{request.base_url}{request.path}"
        try:
            # httpx's timeout applies per phase; the deadline bounds the whole call for the caller.
            async with asyncio.timeout(time_limit):
                response = await self._http.request(
                    request.method,
                    url,
                    params=request.query_params,
                    content=request.body or None,
                    headers=request.headers,
                )
        except (TimeoutError, httpx.TimeoutException) as exc:
            raise TransportError(TransportFailure.TIMEOUT, f"no answer within {time_limit:g}s") from exc
        except httpx.TransportError as exc:
            raise TransportError(TransportFailure.UNREACHABLE, _describe(exc)) from exc
        return RawResponse(response.status_code, response.text, response.headers.get("retry-after"))


def _describe(exc: httpx.TransportError) -> str:
    """A short reason without URLs (which carry the signed query string)."""
    detail = str(exc) or type(exc).__name__
    return detail.split(" for url", 1)[0][:200]


def make_http_client(timeout_seconds: float, max_connections: int = 20) -> httpx.AsyncClient:
    """The pooled client the publisher owns: keep-alive, bounded pool, per-phase timeouts."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_seconds),
        limits=httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections),
        follow_redirects=False,
    )
