"""Benchmark the local Pusher server: publish-to-receive latency, 1,000-way fan-out, 10,000 idle sockets.

Runs `python -m waxos pusher-server` as its own process (so its RSS is measured alone) and drives it
over loopback from this process: HTTP API publishes signed like the SDKs sign them, WebSocket
subscribers from the `websockets` library. Prints the figures and the command that produced them.

    .venv/bin/python bench/pusher_server.py [--idle 10000] [--fanout 1000] [--samples 300]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from waxos.pusher_protocol.signing import body_md5, sign_request  # noqa: E402

APP_ID, KEY, SECRET = "100001", "waxos-dev-key", "waxos-dev-secret"


def raise_fd_limit(wanted: int) -> int:
    """Both ends hold one descriptor per socket; lift the soft limit as far as the hard one allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


class Publisher:
    """Signed `POST /apps/{id}/events` over one keep-alive connection."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.http = httpx.AsyncClient()

    async def trigger(self, channel: str, event: str, data: dict[str, Any]) -> None:
        body = json.dumps({"name": event, "channels": [channel], "data": json.dumps(data)}).encode()
        path = f"/apps/{APP_ID}/events"
        params = {
            "auth_key": KEY,
            "auth_timestamp": str(int(time.time())),
            "auth_version": "1.0",
            "body_md5": body_md5(body),
        }
        params["auth_signature"] = sign_request(SECRET, "POST", path, params)
        response = await self.http.post(self.base + path, params=params, content=body)
        response.raise_for_status()


async def subscriber(port: int, channel: str | None) -> ClientConnection:
    ws = await connect(
        f"ws://127.0.0.1:{port}/app/{KEY}?protocol=7&client=bench&version=1",
        ping_interval=None,
        max_queue=None,
        compression=None,
    )
    await ws.recv()  # connection_established
    if channel is not None:
        await ws.send(json.dumps({"event": "pusher:subscribe", "data": {"channel": channel}}))
        await ws.recv()  # subscription_succeeded
    return ws


async def latency(port: int, samples: int) -> list[float]:
    """One subscriber: ms from just before the POST to the frame read on the socket."""
    ws = await subscriber(port, "latency")
    publisher = Publisher(port)
    results = []
    for i in range(samples + 20):
        started = time.perf_counter()
        await publisher.trigger("latency", "tick", {"i": i})
        await ws.recv()
        if i >= 20:  # warm-up: first requests pay for connection set-up and imports
            results.append((time.perf_counter() - started) * 1000)
    await publisher.http.aclose()
    await ws.close()
    return results


async def fanout(port: int, subscribers: int, rounds: int) -> list[float]:
    """Every subscriber's ms from publish to receipt, for `rounds` events to one channel."""
    sockets = await gather_limited([subscriber(port, "fanout") for _ in range(subscribers)], 100)
    publisher = Publisher(port)
    results: list[float] = []
    arrived = asyncio.Event()

    async def receive(ws: ClientConnection) -> None:
        # One long-lived reader per socket, as a browser has: no per-event task set-up in the way.
        async for raw in ws:
            sent = json.loads(json.loads(raw)["data"])["t"]
            results.append((time.time_ns() - sent) / 1e6)
            if len(results) % subscribers == 0:
                arrived.set()

    readers = [asyncio.create_task(receive(ws)) for ws in sockets]
    for round_ in range(rounds):
        arrived.clear()
        await publisher.trigger("fanout", "burst", {"t": time.time_ns()})
        await arrived.wait()
        if os.environ.get("BENCH_DEBUG"):
            last = results[-subscribers:]
            print(round_, f"{min(last):.1f} {statistics.median(last):.1f} {max(last):.1f}")
        await asyncio.sleep(0.05)
    await publisher.http.aclose()
    await gather_limited([ws.close() for ws in sockets], 200)
    await asyncio.gather(*readers, return_exceptions=True)
    return results


async def gather_limited(coros: list[Any], limit: int) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def run(coro: Any) -> Any:
        async with gate:
            return await coro

    return list(await asyncio.gather(*(run(c) for c in coros)))


async def idle(port: int, count: int, pid: int) -> tuple[float, float]:
    """Server RSS before and with `count` idle, connected sockets."""
    before = rss_mib(pid)
    sockets = await gather_limited([subscriber(port, None) for _ in range(count)], 200)
    await asyncio.sleep(2)
    held = rss_mib(pid)
    await gather_limited([ws.close() for ws in sockets], 200)
    return before, held


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--idle", type=int, default=10_000)
    parser.add_argument("--fanout", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()
    limit = raise_fd_limit(args.idle + 2_000)
    load = os.getloadavg()
    port = free_port()
    env = os.environ | {"PUSHER_APP_ID": APP_ID, "PUSHER_KEY": KEY, "PUSHER_SECRET": SECRET}
    server = subprocess.Popen(
        # Every socket here comes from 127.0.0.1: the per-address cap (1,000 by default) is lifted.
        # Subscription counting (on by default for development) is off, as on Pusher unless an app
        # enables it: the figures are those of delivering events, and the readers expect only them.
        [
            *(sys.executable, "-m", "waxos", "pusher-server", "--port", str(port)),
            *("--max-connections-per-address", "0", "--no-subscription-count"),
        ],
        env=env,
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                break
            except OSError:
                await asyncio.sleep(0.05)
        lat = await latency(port, args.samples)
        fan = await fanout(port, args.fanout, args.rounds)
        before, held = await idle(port, args.idle, server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)

    argv = [".venv/bin/python", "bench/pusher_server.py", *sys.argv[1:]]
    command = " ".join(shlex.quote(a) for a in argv)
    print(f"command: {command}")
    print(
        f"machine: {platform.node()} {os.cpu_count()} cores, "
        f"python {platform.python_version()}, fd limit {limit}, "
        f"load average at start {load[0]:.2f} (other processes share these cores)"
    )
    print(
        f"publish-to-receive, 1 subscriber, {len(lat)} samples: "
        f"p50 {statistics.median(lat):.2f} ms, p99 {percentile(lat, 99):.2f} ms"
    )
    print(
        f"fan-out to {args.fanout} subscribers, {args.rounds} events ({len(fan)} deliveries): "
        f"p50 {statistics.median(fan):.1f} ms, p99 {percentile(fan, 99):.1f} ms, max {max(fan):.1f} ms"
    )
    print(
        f"idle connections: {args.idle} held, server RSS {held:.0f} MiB "
        f"(was {before:.0f} MiB; {(held - before) * 1024 / args.idle:.1f} KiB per socket)"
    )


if __name__ == "__main__":
    asyncio.run(main())
