"""Shared set-up for the event-log benchmarks: a migrated database, a local Pusher server, settings."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import harness
from harness import free_port

from waxos.config import Settings, load_settings

APP_ID, KEY, SECRET = "100001", "bench-key", "bench-secret-value"
ROOT = Path(__file__).resolve().parents[1]
SERVER_CREDENTIALS = ("--app-id", APP_ID, "--key", KEY, "--secret", SECRET)


@contextlib.contextmanager
def database(url: str | None) -> Iterator[str]:
    """A throw-away database: a fresh SQLite file, or a new database beside PostgreSQL's `url` (never
    `url`'s own: the benches migrate and fill what they get)."""
    with tempfile.TemporaryDirectory() as folder, harness.database(url, folder) as fresh:
        yield fresh


@contextlib.contextmanager
def local_pusher_server() -> Iterator[int]:
    """`waxos pusher-server` on a free port, in its own process (its own core); yields the port."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PUSHER_", "WAXOS_"))}
    process = subprocess.Popen(
        [*(sys.executable, "-m", "waxos", "pusher-server", "--port", str(port)), *SERVER_CREDENTIALS],
        env={**env, "WAXOS_ENV_FILE": "/nonexistent.env"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
            if time.monotonic() > deadline:
                raise RuntimeError("the local Pusher server did not start")
            time.sleep(0.05)
        yield port
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)


def settings_for(database_url: str, pusher_port: int) -> Settings:
    """Settings pointing at the benchmark's database and local Pusher server."""
    return load_settings(
        env_file=None,
        database_url=database_url,
        waxos_run_relay=False,
        waxos_log_level="WARNING",
        pusher_app_id=APP_ID,
        pusher_key=KEY,
        pusher_secret=SECRET,
        pusher_cluster="local",
        pusher_host="127.0.0.1",
        pusher_port=pusher_port,
        pusher_use_tls=False,
    )


def percentile(samples: list[float], fraction: float) -> float:
    """The `fraction` quantile of `samples` (inclusive method)."""
    return statistics.quantiles(samples, n=1000, method="inclusive")[round(fraction * 1000) - 1]


def describe_database(url: str) -> str:
    """'SQLite' or 'PostgreSQL'."""
    return "SQLite" if url.startswith("sqlite") else "PostgreSQL"


@contextlib.contextmanager
def delayed(port: int, rtt_ms: float) -> Iterator[int]:
    """A TCP proxy to 127.0.0.1:`port` that holds each response `rtt_ms` (a remote Pusher's round trip)."""
    if rtt_ms <= 0:
        yield port
        return
    import asyncio
    import threading

    ready: list[int] = []
    loop = asyncio.new_event_loop()

    async def pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
        with contextlib.suppress(OSError, ConnectionError):
            while data := await reader.read(65536):
                if delay:
                    await asyncio.sleep(delay)
                writer.write(data)
                await writer.drain()
        writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.gather(pump(reader, up_writer, 0), pump(up_reader, writer, rtt_ms / 1000))

    async def serve() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        ready.append(server.sockets[0].getsockname()[1])
        await asyncio.Event().wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    while not ready:
        time.sleep(0.01)
    yield ready[0]
