"""What the inbox and webhook benches share: a closed-loop HTTP/1.1 load generator, a `waxos serve` process,
and a throw-away database.

Each load connection has one request in flight and sends the next as soon as the answer is complete, so
the server sets the pace; requests/s and latency percentiles come out of the same run. `Target.requests`
may hold several request texts, sent round-robin (e.g. a stream of distinct signed webhooks).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy.engine import make_url


@dataclass(frozen=True)
class Target:
    """One endpoint to load: a name and the raw HTTP/1.1 request(s), sent in turn."""

    name: str
    requests: tuple[bytes, ...]


@dataclass(frozen=True)
class Figures:
    """What one load run measured."""

    name: str
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rps(self) -> float:
        """Completed requests per second."""
        return self.requests / self.seconds

    def percentile(self, p: float) -> float:
        """Latency percentile in milliseconds."""
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    def row(self, server_us: float) -> str:
        """One line of the results table, with the server's CPU per request."""
        return (
            f"  {self.name:<52} {self.rps:8.0f} {self.percentile(50):8.2f} {self.percentile(99):8.2f} "
            f"{max(self.latencies_ms):8.2f} {self.errors:7d} {server_us:14.0f}"
        )


HEADER = (
    f"  {'endpoint':<52} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>7} "
    f"{'server µs/req':>14}"
)


class _Connection(asyncio.Protocol):
    """A keep-alive client connection that sends the next request as soon as a response completes."""

    def __init__(
        self, requests: Iterator[bytes], record: list[float], errors: list[int], stop_at: float
    ) -> None:
        self.requests = requests
        self.record = record
        self.errors = errors
        self.stop_at = stop_at
        self.buffer = b""
        self.sent_at = 0.0
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._send()

    def _send(self) -> None:
        assert self.transport is not None
        self.sent_at = time.perf_counter()
        self.transport.write(next(self.requests))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buffer[:head_end].decode("latin-1").lower()
            length = (
                int(head.split("content-length:", 1)[1].split("\r\n", 1)[0])
                if "content-length:" in head
                else 0
            )
            total = head_end + 4 + length
            if len(self.buffer) < total:
                return
            self.buffer = self.buffer[total:]
            now = time.perf_counter()
            self.record.append((now - self.sent_at) * 1000)
            if not head.startswith("http/1.1 2"):
                self.errors.append(1)
            if now >= self.stop_at:
                assert self.transport is not None
                self.transport.close()
                return
            self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def load(port: int, target: Target, concurrency: int, duration: float, warmup: float) -> Figures:
    """Drive `target` with `concurrency` connections: `warmup` seconds unmeasured, then `duration`."""
    loop = asyncio.get_running_loop()
    requests = itertools.cycle(target.requests)
    for seconds, measured in ((warmup, False), (duration, True)):
        if seconds <= 0 and not measured:
            continue
        record: list[float] = []
        errors: list[int] = []
        stop_at = time.perf_counter() + seconds
        started = time.perf_counter()

        def connection(
            record: list[float] = record, errors: list[int] = errors, stop_at: float = stop_at
        ) -> _Connection:
            return _Connection(requests, record, errors, stop_at)

        connections = [
            (await loop.create_connection(connection, "127.0.0.1", port))[1] for _ in range(concurrency)
        ]
        await asyncio.gather(*(c.done for c in connections))
        elapsed = time.perf_counter() - started
        if measured:
            return Figures(target.name, len(record), len(errors), elapsed, record)
    raise AssertionError("unreachable")


def request(method: str, path: str, body: bytes = b"", headers: Mapping[str, str] | None = None) -> bytes:
    """The raw text of one HTTP/1.1 request."""
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def post_json(path: str, body: Any, token: str | None = None) -> bytes:
    """A JSON POST, with a bearer token if given."""
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return request("POST", path, json.dumps(body).encode(), headers)


def free_port() -> int:
    """A port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, seconds: float = 30.0) -> None:
    """Wait until something accepts connections on 127.0.0.1:`port`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nothing listens on port {port}")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) the process has used so far, from /proc (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(
    port: int, pid: int, target: Target, concurrency: int, duration: float, warmup: float
) -> tuple[Figures, float]:
    """`load`, and the server's CPU microseconds per request over the measured part: a figure the other
    processes on the machine barely move, unlike throughput and latency."""
    await load(port, target, concurrency, warmup, 0.0)
    before = cpu_seconds(pid)
    figures = await load(port, target, concurrency, duration, 0.0)
    return figures, (cpu_seconds(pid) - before) / max(1, figures.requests) * 1e6


@contextlib.contextmanager
def serve(env_file: Path, port: int, python_prelude: str | None = None, **env: str) -> Iterator[int]:
    """`waxos serve` (one uvicorn worker, as production runs it) on `port`, until the block ends; its pid.

    `python_prelude` runs in the server process before the command starts: a bench's variant, e.g. one
    that turns a step off to measure what it costs.
    """
    environment = {**os.environ, "WAXOS_LOG_LEVEL": "WARNING", **env}
    args = ["--env-file", str(env_file), "serve", "--port", str(port)]
    if python_prelude is None:
        command = [sys.executable, "-m", "waxos", *args]
    else:
        command = [sys.executable, "-c", f"{python_prelude}\nfrom waxos.cli.main import main\nmain()", *args]
    server = subprocess.Popen(command, env=environment)
    try:
        wait_for_port(port)
        yield server.pid
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextlib.contextmanager
def database(url: str | None, directory: str) -> Iterator[str]:
    """A throw-away database: a SQLite file in `directory`, or a new database beside PostgreSQL's `url`."""
    if url is None:
        yield f"sqlite+aiosqlite:///{directory}/bench.db"
        return
    parsed = make_url(url)
    name = f"waxos_bench_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        connection = await asyncpg.connect(
            host=parsed.host,
            port=parsed.port or 5432,
            user=parsed.username,
            password=parsed.password,
            database=parsed.database,
        )
        try:
            await connection.execute(sql)
        finally:
            await connection.close()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def env_file(path: Path, database_url: str, **values: str) -> Path:
    """A settings file for the bench's server: fake local Pusher credentials and `values`."""
    settings = {
        "DATABASE_URL": database_url,
        "WAXOS_SECRET_KEY": "bench-signing-key-not-secret-0123456789",
        "PUSHER_APP_ID": "100001",
        "PUSHER_KEY": "bench-key",
        "PUSHER_SECRET": "bench-pusher-secret",
        "PUSHER_CLUSTER": "local",
        "PUSHER_HOST": "127.0.0.1",
        "PUSHER_PORT": str(free_port()),
        "PUSHER_USE_TLS": "false",
        **values,
    }
    path.write_text("".join(f"{name}={value}\n" for name, value in settings.items()))
    return path


def report(command: Sequence[str], database_url: str, load_before: float, lines: Sequence[str]) -> None:
    """Print the command that produced the figures, the machine's state, and the figures."""
    print(f"\ncommand: {' '.join([Path(sys.executable).name, *command])}")
    # Other processes on the machine skew every figure; the load average says how much.
    print(f"load average before/after: {load_before:.2f} / {os.getloadavg()[0]:.2f}; {os.cpu_count()} CPUs")
    print(f"database: {database_url.split(':', 1)[0]}\n")
    for line in lines:
        print(line)
