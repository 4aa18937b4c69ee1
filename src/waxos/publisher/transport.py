"""The HTTP transport to Pusher's API: one pooled aiohttp session per publisher, behind the SDK's hook.

The SDK signs each request and hands it to `backend.send_request`; its bundled aiohttp backend opens a new
session per call, so we plug in `SdkBackend` over one long-lived `AiohttpTransport` instead. The transport
returns the raw status and body and raises only `TransportError`, so the publisher decides what each
outcome means, in one place. Why aiohttp: measured against httpx and an h11 pool (docs/decisions.md), it
costs the least CPU per request of the maintained clients (its HTTP parser is in C), and it gives TLS
with the system's verification and a keep-alive pool; `HTTP(S)_PROXY` from the environment is honoured.

Tests use this same class against stand-in servers on 127.0.0.1: the seam is the URL (`PUSHER_HOST`,
`PUSHER_PORT`), so the code that runs in production is the code the tests run.

A POST on a kept-alive connection that the server closed before answering is sent once more on a fresh
connection. Pusher may have accepted the first copy, so an event can be published twice: acceptable,
because delivery is at-least-once and clients deduplicate by `seq` (docs/guarantees.md).
"""

from __future__ import annotations

import asyncio
import enum
import re
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote, urlencode
from urllib.request import getproxies_environment, proxy_bypass

import aiohttp
from yarl import URL

_MAX_CONNECTIONS = 20
# What a query may hold unencoded: the signed batch's keys and values (hex, digits, the key) always do.
_URL_SAFE = re.compile(r"[A-Za-z0-9._~=&-]*")


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


class AiohttpTransport:
    """Sends signed requests over one keep-alive `aiohttp.ClientSession`, made on first use in the loop."""

    def __init__(self, max_connections: int = _MAX_CONNECTIONS) -> None:
        self._max_connections = max_connections
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[str, str | None] = {}

    async def send(self, request: SignedRequest, time_limit: float) -> RawResponse:
        """Send one signed request; raise `TransportError` when no answer arrives within `time_limit` s."""
        base = request.base_url
        # Percent-encoded once here (the server decodes before checking the signature); not again by yarl.
        query = "&".join(f"{key}={value}" for key, value in request.query_params.items())
        if not _URL_SAFE.fullmatch(query):
            query = urlencode(request.query_params, quote_via=quote)
        url = URL(f"{base}{request.path}?{query}", encoded=True)
        if base not in self._proxies:
            # Read once per origin: aiohttp's `trust_env` would read the environment on every request.
            self._proxies[base] = _proxy_from_environment(base)
        proxy = self._proxies[base]
        try:
            async with asyncio.timeout(time_limit):
                try:
                    return await self._exchange(request, url, proxy)
                except aiohttp.ServerDisconnectedError:
                    # A kept-alive connection the server had closed: once more, on a fresh connection.
                    return await self._exchange(request, url, proxy)
        except TimeoutError as exc:
            raise TransportError(TransportFailure.TIMEOUT, f"no answer within {time_limit:g}s") from exc
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            raise TransportError(TransportFailure.UNREACHABLE, _describe(exc)) from exc

    async def _exchange(self, request: SignedRequest, url: URL, proxy: str | None) -> RawResponse:
        async with self._client().request(
            request.method, url, data=request.body or None, headers=request.headers, proxy=proxy
        ) as response:
            body = await response.read()
            return RawResponse(
                response.status, body.decode("utf-8", errors="replace"), response.headers.get("Retry-After")
            )

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections),
                # `send` bounds each whole exchange; aiohttp's own timers would add work to every request.
                timeout=aiohttp.ClientTimeout(total=None),
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    async def aclose(self) -> None:
        """Close the pooled connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None


class SdkBackend:
    """The SDK's `backend=` hook: its calls (reads, `trigger`) go through our transport, within a deadline."""

    def __init__(self, client: Any, transport: AiohttpTransport, deadline_seconds: float) -> None:
        self._transport = transport
        self._deadline = deadline_seconds

    async def send_request(self, request: SignedRequest) -> RawResponse:
        """Send one signed request within the configured deadline."""
        return await self._transport.send(request, self._deadline)


def _proxy_from_environment(base_url: str) -> str | None:
    """The proxy `HTTPS_PROXY`/`HTTP_PROXY`/`ALL_PROXY` name for `base_url`, unless `NO_PROXY` exempts it."""
    parsed = URL(base_url)
    if proxy_bypass(parsed.host or ""):
        return None
    proxies = getproxies_environment()
    return proxies.get(parsed.scheme) or proxies.get("all")


def _describe(exc: BaseException) -> str:
    """A short reason without URLs (which carry the signed query string)."""
    detail = str(exc) or type(exc).__name__
    return detail.split(" url=", 1)[0].split("?", 1)[0][:200]
