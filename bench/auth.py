"""Benchmark: channel authorization (`POST /api/v1/pusher/auth`) against one uvicorn worker.

Run:  .venv/bin/python bench/auth.py [--database-url URL] [--concurrency 16] [--duration 10]

It migrates and demo-seeds a throw-away database (a fresh SQLite file, or a new database beside
--database-url's PostgreSQL), starts `waxos serve` (one uvicorn worker, relay off, log level WARNING so
no access line is written per request) on a free port, and drives it with keep-alive HTTP/1.1
connections from this process, each with one request in flight (closed loop, fixed concurrency). It
reports requests/s and latency percentiles for:

  - GET /health/live: the HTTP stack alone (uvicorn + FastAPI routing), the floor;
  - POST /api/v1/pusher/auth for a private and a presence workspace channel: token verification, the
    user and membership lookups, the policy and the signature;

then times the pieces in-process (JWT verification, a bare `authenticate_private_channel`) to show where
the time goes. The server takes one core; this load generator the other.

With `--login-flood N` it also measures the private channel authorization while N connections send logins
for random emails, each from another address (X-Forwarded-For, which the server is told to believe):
a distributed flood that the per-address throttle cannot stop, so only the bounded hashing pool stands
between it and the other endpoints. `--hashing-threads`/`--hashing-queue` set that pool
(WAXOS_LOGIN_HASHING_THREADS/_QUEUE); a large queue and six threads is how logins ran before the pool
(on the loop's default executor).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

import jwt
from argon2 import PasswordHasher
from harness import database, free_port
from sqlalchemy import select

from waxos.auth.lookup import StaffLookup
from waxos.auth.models import User, Workspace
from waxos.auth.seed import seed_demo
from waxos.auth.tokens import access_token_key, issue_access_token, read_access_token
from waxos.config import load_settings
from waxos.db.base import utcnow
from waxos.db.engine import make_engine, make_sessionmaker, transaction
from waxos.db.migrate import upgrade
from waxos.publisher.service import PusherService

TOKEN_SECRET = "bench-signing-key-not-secret-0123456789"
PUSHER_SECRET = "bench-pusher-secret"
SOCKET_ID = "1234.5678"


@dataclass(frozen=True)
class Target:
    """One endpoint to load: a name and the raw HTTP/1.1 request bytes."""

    name: str
    request: bytes


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


class _Connection(asyncio.Protocol):
    """A keep-alive client connection that sends the next request as soon as a response completes."""

    def __init__(self, request: bytes, record: list[float], errors: list[int], stop_at: float) -> None:
        self.request = request
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
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buffer[:head_end].decode("latin-1").lower()
            length = int(head.split("content-length:", 1)[1].split("\r\n", 1)[0])
            total = head_end + 4 + length
            if len(self.buffer) < total:
                return
            self.buffer = self.buffer[total:]
            now = time.perf_counter()
            self.record.append((now - self.sent_at) * 1000)
            if not head.startswith("http/1.1 200"):
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
    for seconds, measured in ((warmup, False), (duration, True)):
        record: list[float] = []
        errors: list[int] = []
        stop_at = time.perf_counter() + seconds
        started = time.perf_counter()

        def connection(
            record: list[float] = record, errors: list[int] = errors, stop_at: float = stop_at
        ) -> _Connection:
            return _Connection(target.request, record, errors, stop_at)

        connections = [
            (await loop.create_connection(connection, "127.0.0.1", port))[1] for _ in range(concurrency)
        ]
        await asyncio.gather(*(c.done for c in connections))
        elapsed = time.perf_counter() - started
        if measured:
            return Figures(target.name, len(record), len(errors), elapsed, record)
    raise AssertionError("unreachable")


def post(path: str, body: dict[str, str], token: str) -> bytes:
    """A form-encoded POST as pusher-js sends it, with the bearer token."""
    encoded = urlencode(body).encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(encoded)}\r\n\r\n"
    ).encode() + encoded


class _Flood(asyncio.Protocol):
    """A keep-alive connection sending logins for random emails, each from a new forwarded address."""

    def __init__(self, statuses: dict[str, int], stop_at: float) -> None:
        self.statuses = statuses
        self.stop_at = stop_at
        self.buffer = b""
        self.sent = 0
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._send()

    def _send(self) -> None:
        assert self.transport is not None
        self.sent += 1
        n = random.getrandbits(32)
        body = f'{{"email": "flood{n}@nowhere.test", "password": "guess"}}'.encode()
        address = f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"
        self.transport.write(
            (
                "POST /api/v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                f"X-Forwarded-For: {address}\r\nContent-Length: {len(body)}\r\n\r\n"
            ).encode()
            + body
        )

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (head_end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:head_end].decode("latin-1").lower()
            total = head_end + 4 + int(head.split("content-length:", 1)[1].split("\r\n", 1)[0])
            if len(self.buffer) < total:
                return
            self.buffer = self.buffer[total:]
            status = head.split(" ", 2)[1]
            self.statuses[status] = self.statuses.get(status, 0) + 1
            if time.perf_counter() >= self.stop_at:
                assert self.transport is not None
                self.transport.close()
                return
            self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def under_flood(
    port: int, target: Target, concurrency: int, duration: float, warmup: float, flooders: int
) -> tuple[Figures, dict[str, int]]:
    """`load(target)` while `flooders` connections send logins until it is done; their statuses."""
    loop = asyncio.get_running_loop()
    statuses: dict[str, int] = {}
    stop_at = time.perf_counter() + warmup + duration
    floods = [
        (await loop.create_connection(lambda: _Flood(statuses, stop_at), "127.0.0.1", port))[1]
        for _ in range(flooders)
    ]
    figures = await load(port, target, concurrency, duration, warmup)
    for flood in floods:
        if flood.transport is not None:
            flood.transport.close()
    await asyncio.gather(*(flood.done for flood in floods))
    return figures, statuses


def get(path: str) -> bytes:
    """A bare GET."""
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()


async def prepare(database_url: str) -> tuple[int, int, int]:
    """Migrate and seed; the id and token generation of Acme's agent, and the id of Acme."""
    await upgrade(database_url)
    engine = make_engine(database_url)
    try:
        sessions = make_sessionmaker(engine)
        async with transaction(sessions) as session:
            # Cheap hashes: logging in is not what is measured.
            await seed_demo(
                session, "bench-password", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
            )
        async with transaction(sessions) as session:
            user = await session.scalar(select(User).where(User.email == "agent@acme.test"))
            workspace = await session.scalar(select(Workspace).where(Workspace.name == "Acme"))
            assert user is not None and workspace is not None
            return user.id, user.token_generation, workspace.id
    finally:
        await engine.dispose()


def start_server(env_file: Path, port: int) -> subprocess.Popen[bytes]:
    """`waxos serve` with one worker, as production runs it; returns once it answers."""
    env = {**os.environ, "WAXOS_LOG_LEVEL": "WARNING", "WAXOS_RUN_RELAY": "false"}
    command = [sys.executable, "-m", "waxos", "--env-file", str(env_file), "serve", "--port", str(port)]
    server = subprocess.Popen(command, env=env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit("the server did not start")


def micro(label: str, call: object, repeat: int = 20000) -> float:
    """Microseconds per call of a zero-argument callable, best of three runs; prints them."""
    assert callable(call)
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for _ in range(repeat):
            call()
        best = min(best, (time.perf_counter() - started) / repeat * 1e6)
    print(f"  {label:<60} {best:8.1f} µs/call")
    return best


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary directory")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per endpoint")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--login-flood", type=int, default=0, help="flooding login connections (0: none)")
    parser.add_argument("--hashing-threads", type=int, default=0, help="WAXOS_LOGIN_HASHING_THREADS")
    parser.add_argument("--hashing-queue", type=int, default=16, help="WAXOS_LOGIN_HASHING_QUEUE")
    args = parser.parse_args()

    # A throw-away database (beside --database-url's, never that one): it is migrated and demo-seeded.
    with tempfile.TemporaryDirectory() as tmp, database(args.database_url, tmp) as database_url:
        user_id, generation, workspace_id = asyncio.run(prepare(database_url))
        env_file = Path(tmp) / "bench.env"
        env_file.write_text(
            f"DATABASE_URL={database_url}\nWAXOS_SECRET_KEY={TOKEN_SECRET}\nPUSHER_APP_ID=100001\n"
            f"PUSHER_KEY=bench-key\nPUSHER_SECRET={PUSHER_SECRET}\nPUSHER_CLUSTER=local\n"
            # A closed port: a developer's local server on 6001 (other credentials) would refuse start-up.
            f"PUSHER_HOST=127.0.0.1\nPUSHER_PORT={free_port()}\nPUSHER_USE_TLS=false\n"
            # The flood comes from many addresses: believe this process's X-Forwarded-For.
            f"WAXOS_TRUSTED_PROXIES=127.0.0.1\nWAXOS_LOGIN_HASHING_THREADS={args.hashing_threads}\n"
            f"WAXOS_LOGIN_HASHING_QUEUE={args.hashing_queue}\n"
        )
        token = issue_access_token(user_id, generation, TOKEN_SECRET, timedelta(hours=1), utcnow())
        targets = [
            Target("GET /health/live (HTTP stack floor)", get("/health/live")),
            Target(
                "POST /pusher/auth private-workspace-N.chats",
                post(
                    "/api/v1/pusher/auth",
                    {"socket_id": SOCKET_ID, "channel_name": f"private-workspace-{workspace_id}.chats"},
                    token,
                ),
            ),
            Target(
                "POST /pusher/auth presence-workspace-N",
                post(
                    "/api/v1/pusher/auth",
                    {"socket_id": SOCKET_ID, "channel_name": f"presence-workspace-{workspace_id}"},
                    token,
                ),
            ),
        ]
        load_before = os.getloadavg()[0]
        port = free_port()
        server = start_server(env_file, port)
        try:
            results = [
                asyncio.run(load(port, target, args.concurrency, args.duration, args.warmup))
                for target in targets
            ]
            flood = None
            if args.login_flood:
                flood = asyncio.run(
                    under_flood(
                        port, targets[1], args.concurrency, args.duration, args.warmup, args.login_flood
                    )
                )
        finally:
            server.terminate()
            server.wait(timeout=30)

        backend = database_url.split(":", 1)[0]
        print(f"\ncommand: {' '.join([Path(sys.executable).name, *sys.argv])}")
        # Other processes on the machine skew every figure; the load average says how much.
        print(f"load average before/after: {load_before:.2f} / {os.getloadavg()[0]:.2f}")
        print(
            f"python {platform.python_version()}, {os.cpu_count()} CPUs, database {backend}, "
            "1 uvicorn worker (waxos serve: gc.freeze() after start-up), "
            f"concurrency {args.concurrency}, {args.duration:g} s per endpoint\n"
        )
        print(f"  {'endpoint':<46} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'errors':>7}")
        for r in results:
            print(
                f"  {r.name:<46} {r.rps:8.0f} {r.percentile(50):8.2f} {r.percentile(99):8.2f} "
                f"{max(r.latencies_ms):8.2f} {r.errors:7d}"
            )

        if flood is not None:
            figures, statuses = flood
            print(
                f"\n  under a flood of {args.login_flood} login connections from changing addresses "
                f"(hashing pool: {args.hashing_threads or 'half the CPUs in'} threads, "
                f"{args.hashing_queue} waiting):"
            )
            print(
                f"  {figures.name:<46} {figures.rps:8.0f} {figures.percentile(50):8.2f} "
                f"{figures.percentile(99):8.2f} {max(figures.latencies_ms):8.2f} {figures.errors:7d}"
            )
            answered = ", ".join(f"{count} x {status}" for status, count in sorted(statuses.items()))
            print(f"  login answers meanwhile: {answered}")

        print("\nin-process, per call:")
        settings = load_settings(
            env_file=env_file, pusher_encryption_master_key_base64=None, database_url=database_url
        )
        pusher = PusherService(settings)
        channel = f"private-workspace-{workspace_id}.chats"
        sign = micro(
            "PusherService.authenticate_private_channel (bare signature)",
            lambda: pusher.authenticate_private_channel(SOCKET_ID, channel),
        )
        secret = TOKEN_SECRET
        key = access_token_key(secret)
        micro("jwt.decode HS256 (a token seen for the first time)", lambda: jwt.decode(token, key, ["HS256"]))
        micro(
            "read_access_token (a token seen before: remembered)",
            lambda: read_access_token(token, TOKEN_SECRET),
        )
        lookup_us = asyncio.run(sequential_lookups(database_url, user_id, workspace_id))
        print(f"  {'StaffLookup.standing, one at a time (a query each)':<60} {lookup_us:8.1f} µs/call")
        asyncio.run(pusher.aclose())

        floor, private = results[0], results[1]
        per_request_us = 1e6 / private.rps
        print(
            f"\nper private auth request: {per_request_us:.0f} µs of the server's core, of which the HTTP "
            f"stack alone takes {1e6 / floor.rps:.0f} µs and the signature {sign:.0f} µs. A lone database "
            f"read costs {lookup_us:.0f} µs; under load StaffLookup shares one read among the requests "
            "waiting, and the rest is FastAPI routing, the dependency, body parsing, the policy and the "
            "JSON answer."
        )


async def sequential_lookups(database_url: str, user_id: int, workspace_id: int, repeat: int = 2000) -> float:
    """Microseconds of CPU per `StaffLookup.standing` when nothing else is waiting (one query each)."""
    engine = make_engine(database_url)
    try:
        lookup = StaffLookup(engine)
        for _ in range(100):
            await lookup.standing(user_id, workspace_id)
        started = time.process_time()
        for _ in range(repeat):
            await lookup.standing(user_id, workspace_id)
        return (time.process_time() - started) / repeat * 1e6
    finally:
        await engine.dispose()


if __name__ == "__main__":
    main()
