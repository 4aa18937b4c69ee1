"""The publisher's HTTP transport (aiohttp) against a scripted server on a real socket."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field

import pytest

from waxos.publisher.transport import AiohttpTransport, TransportError, TransportFailure

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


@contextlib.asynccontextmanager
async def transport() -> AsyncIterator[AiohttpTransport]:
    client = AiohttpTransport()
    try:
        yield client
    finally:
        await client.aclose()


async def test_requests_reuse_one_connection_and_are_well_formed() -> None:
    async with transport() as client, serving(lambda _r: ok(b'{"a":1}', "Retry-After: 7\r\n")) as server:
        first = await client.send(Signed(server.port), 5)
        for _ in range(3):
            assert (await client.send(Signed(server.port), 5)).status == 200
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
    async with transport() as client, serving(lambda _r: chunked) as server:
        answer = await client.send(Signed(server.port), 5)
        assert (answer.status, answer.text) == (400, "bad batch")
        assert (await client.send(Signed(server.port), 5)).status == 200
    assert server.connections == 1


async def test_a_connection_the_server_closed_is_replaced_without_failing_the_request() -> None:
    async with (
        transport() as client,
        serving(lambda _r: ok(extra="Connection: close\r\n"), lambda _r: ok()) as server,
    ):
        assert (await client.send(Signed(server.port), 5)).status == 200
        await asyncio.sleep(0.05)
        assert (await client.send(Signed(server.port), 5)).status == 200
    assert server.connections == 2


async def test_an_idle_connection_dropped_by_the_server_is_retried_on_a_fresh_one() -> None:
    # The server reads the second request, then hangs up without answering, as a server closing an
    # idle keep-alive connection does at the moment the client reuses it.
    async with transport() as client, serving(lambda _r: ok(), lambda _r: None, lambda _r: ok()) as server:
        assert (await client.send(Signed(server.port), 5)).status == 200
        assert (await client.send(Signed(server.port), 5)).status == 200
    assert server.connections == 2


async def test_no_answer_in_time_is_a_timeout_and_a_closed_port_is_unreachable() -> None:
    async def never(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(0.5)
        writer.close()

    listener = await asyncio.start_server(never, "127.0.0.1", 0)
    port = listener.sockets[0].getsockname()[1]
    async with transport() as client:
        with pytest.raises(TransportError) as timed_out:
            await client.send(Signed(port), 0.2)
        listener.close()
        await listener.wait_closed()
        with pytest.raises(TransportError) as refused:
            await client.send(Signed(port), 2)
    assert timed_out.value.failure is TransportFailure.TIMEOUT
    assert refused.value.failure is TransportFailure.UNREACHABLE
    assert "auth_key" not in refused.value.detail  # no signed query string in the reason


@pytest.mark.parametrize(
    "answer",
    [
        lambda _r: b"SMTP ready\r\n\r\n",
        lambda _r: b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\n{}",  # cut short
        lambda _r: None,  # hung up twice: on the first connection and on the fresh one
    ],
)
async def test_a_malformed_or_missing_answer_is_unreachable(answer: Answer) -> None:
    async with transport() as client, serving(answer, answer) as server:
        with pytest.raises(TransportError) as failed:
            await client.send(Signed(server.port), 2)
    assert failed.value.failure is TransportFailure.UNREACHABLE
