"""The reported flood against `waxos pusher-server` as its own process: its memory stays bounded.

Four sockets send invalid 16 KB subscribes and never read what comes back. The server used to repeat
each bad name three times in its answer and queue up to 10,000 frames per socket: 172 MiB became
985 MiB in seconds, 828 MiB once the sockets left. Now an answer repeats at most 200 characters and a
socket's queue is bounded in bytes.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from websockets.asyncio.client import ClientConnection, connect

from tests.support.environment import ROOT, free_port
from tests.support.local_pusher import APP_ID, KEY, SECRET

SOCKETS = 4
FRAMES_PER_SOCKET = 1_500
# Growth allowed while flooded, and left once the flood is gone (the interpreter keeps some heap).
PEAK_GROWTH_MIB = 48
LEFT_GROWTH_MIB = 16


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@contextmanager
def server_process() -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PUSHER_", "WAXOS_ENV_FILE"))}
    command = [sys.executable, "-m", "waxos", "pusher-server", "--port", str(port)]
    command += ["--app-id", APP_ID, "--key", KEY, "--secret", SECRET]
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            assert process.poll() is None, "the server exited"
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.05)
        yield process, port
    finally:
        process.terminate()
        process.wait(timeout=15)


class PeakSampler:
    """Samples a process's RSS every 20 ms in a thread; `peak` is the highest seen."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = rss_mib(pid)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mib(self.pid))

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def never_reading(port: int) -> ClientConnection:
    # max_queue=1: the client stops reading the socket as soon as one frame waits for it.
    url = f"ws://127.0.0.1:{port}/app/{KEY}?protocol=7"
    return await connect(url, max_queue=1, ping_interval=None, compression=None)


async def flood(port: int) -> None:
    frame = json.dumps({"event": "pusher:subscribe", "data": {"channel": "x!" * 8_150}})
    assert 16_000 < len(frame) <= 16_384
    clients = [await never_reading(port) for _ in range(SOCKETS)]

    async def send_all(client: ClientConnection) -> None:
        for _ in range(FRAMES_PER_SOCKET):
            await client.send(frame)

    await asyncio.gather(*(send_all(client) for client in clients))
    await asyncio.sleep(0.5)  # the server works through what it has read
    for client in clients:
        client.transport.abort()


async def settle(pid: int, start: float) -> float:
    """RSS once it stops falling (at most 5 s)."""
    current = rss_mib(pid)
    for _ in range(50):
        await asyncio.sleep(0.1)
        current = rss_mib(pid)
        if current - start < LEFT_GROWTH_MIB:
            break
    return current


async def test_a_flood_of_bad_subscribes_from_sockets_that_never_read_stays_bounded() -> None:
    with server_process() as (process, port):
        # Warm up what any first connection loads, so the start is the steady state.
        warm = await connect(f"ws://127.0.0.1:{port}/app/{KEY}?protocol=7")
        await warm.recv()
        await warm.send(json.dumps({"event": "pusher:subscribe", "data": {"channel": "bad name"}}))
        await warm.recv()
        await warm.close()
        await asyncio.sleep(0.2)
        start = rss_mib(process.pid)
        with PeakSampler(process.pid) as sampler:
            await flood(port)
        left = await settle(process.pid, start)
        # Still serving.
        async with connect(f"ws://127.0.0.1:{port}/app/{KEY}?protocol=7") as client:
            assert json.loads(await client.recv())["event"] == "pusher:connection_established"
    assert sampler.peak - start < PEAK_GROWTH_MIB, (start, sampler.peak, left)
    assert left - start < LEFT_GROWTH_MIB, (start, sampler.peak, left)
