"""The relay's own HTTP/1.1 client against a scripted server on a real socket."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest

from tests.publisher.test_publisher import make_settings
from waxos.publisher.http1 import Http1Backend, Http1Pool
from waxos.publisher.service import PusherService
from waxos.publisher.transport import HttpxBackend, TransportError, TransportFailure

Answer = Callable[[bytes], bytes | None]  # the request's head and body -> raw answer (None: hang up)


def ok(body: bytes = b"{}", extra: str = "") -> bytes:
    return f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n{extra}\r\n".encode() + body


@dataclass
class Server:
    answers: list[Answer]
    port: int = 0
    connections: int = 0
    requests: list[bytes] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            await self._serve(reader, writer)
        finally:
            writer.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                answer = self.answers.pop(0)(request) if self.answers else ok()
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
                if b"Connection: close" in answer:
                    break


@contextlib.asynccontextmanager
async def serving(*answers: Answer) -> AsyncIterator[Server]:
    server = Server(list(answers))
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0)
    server.port = listener.sockets[0].getsockname()[1]
    try:
        yield server
    finally:
        listener.close()
        await listener.wait_closed()


@dataclass
class Signed:
    """What the SDK hands a backend."""

    port: int
    method: str = "POST"
    path: str = "/apps/1/events"
    body: bytes = b'{"name":"x"}'
    query_params: dict[str, str] = field(default_factory=lambda: {"auth_key": "k", "info": "a b,c"})
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": "application/json"})

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


async def test_requests_reuse_one_connection_and_are_well_formed() -> None:
    pool = Http1Pool()
    backend = Http1Backend(None, pool, 5)
    async with serving(lambda _r: ok(b'{"a":1}', "Retry-After: 7\r\n")) as server:
        first = await backend.send_request(Signed(server.port))
        for _ in range(3):
            assert (await backend.send_request(Signed(server.port))).status == 200
        await pool.aclose()
    assert (first.status, first.text, first.retry_after) == (200, '{"a":1}', "7")
    assert server.connections == 1
    head, _, body = server.requests[0].partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /apps/1/events?auth_key=k&info=a%20b%2Cc HTTP/1.1"
    assert f"Host: 127.0.0.1:{server.port}" in lines
    assert "Content-Length: 12" in lines and "Content-Type: application/json" in lines
    assert body == b'{"name":"x"}'


async def test_a_chunked_answer_is_reassembled_and_the_connection_kept() -> None:
    chunked = (
        b"HTTP/1.1 400 Bad Request\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nbad \r\n5\r\nbatch\r\n0\r\n\r\n"
    )
    pool = Http1Pool()
    async with serving(lambda _r: chunked) as server:
        backend = Http1Backend(None, pool, 5)
        answer = await backend.send_request(Signed(server.port))
        assert (answer.status, answer.text) == (400, "bad batch")
        assert (await backend.send_request(Signed(server.port))).status == 200
        await pool.aclose()
    assert server.connections == 1


async def test_a_connection_the_server_closed_is_replaced_without_failing_the_request() -> None:
    pool = Http1Pool()
    async with serving(lambda _r: ok(extra="Connection: close\r\n"), lambda _r: ok()) as server:
        backend = Http1Backend(None, pool, 5)
        assert (await backend.send_request(Signed(server.port))).status == 200
        await asyncio.sleep(0.05)
        assert (await backend.send_request(Signed(server.port))).status == 200
        await pool.aclose()
    assert server.connections == 2


async def test_an_idle_connection_dropped_by_the_server_is_retried_on_a_fresh_one() -> None:
    # The server reads the second request, then hangs up without answering, as a server closing an
    # idle keep-alive connection does at the moment the client reuses it.
    pool = Http1Pool()
    async with serving(lambda _r: ok(), lambda _r: None, lambda _r: ok()) as server:
        backend = Http1Backend(None, pool, 5)
        assert (await backend.send_request(Signed(server.port))).status == 200
        assert (await backend.send_request(Signed(server.port))).status == 200
        await pool.aclose()
    assert server.connections == 2


async def test_no_answer_in_time_is_a_timeout_and_a_closed_port_is_unreachable() -> None:
    async def never(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0.5)
        writer.close()

    listener = await asyncio.start_server(never, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    with pytest.raises(TransportError) as timed_out:
        await Http1Backend(None, Http1Pool(), 0.2).send_request(Signed(port))
    listener.close()
    await listener.wait_closed()
    assert timed_out.value.failure is TransportFailure.TIMEOUT
    with pytest.raises(TransportError) as refused:
        await Http1Backend(None, Http1Pool(), 2).send_request(Signed(port))
    assert refused.value.failure is TransportFailure.UNREACHABLE


async def test_a_malformed_answer_is_a_transport_failure() -> None:
    async with serving(lambda _r: b"SMTP ready\r\n\r\n") as server:
        with pytest.raises(TransportError) as failed:
            await Http1Backend(None, Http1Pool(), 2).send_request(Signed(server.port))
    assert failed.value.failure is TransportFailure.UNREACHABLE


async def test_the_service_uses_its_own_client_unless_a_proxy_is_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "https_proxy", "http_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    direct = PusherService(make_settings())
    assert isinstance(direct._sdk._pusher_client.http, Http1Backend)
    await direct.aclose()
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    proxied = PusherService(make_settings())
    assert isinstance(proxied._sdk._pusher_client.http, HttpxBackend)
    await proxied.aclose()
