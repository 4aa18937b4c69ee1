"""The real pieces for event-log end-to-end tests: the API with its relay, the local Pusher server as a
process, `waxos relay` as a process, and a pusher-js follower under Node."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from tests.support.environment import ROOT, free_port
from tests.support.settings import PUSHER_KEY, TOKEN_SECRET, make_settings
from waxos.app import create_app

FOLLOWER = ROOT / "tests" / "e2e" / "realtime_follower.mjs"
# A client made with the package's connect() (see the script for its options and output lines).
REALTIME_CLIENT = ROOT / "tests" / "e2e" / "js" / "realtime_client.mjs"
APP_ID, SECRET = "100001", "waxos-dev-secret"


def server_env(database_url: str, pusher_port: int, **extra: str) -> dict[str, str]:
    """Environment for `waxos` subprocesses sharing the test's database and local Pusher server."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PUSHER_", "WAXOS_", "DATABASE_"))}
    return {
        **clean,
        "WAXOS_ENV_FILE": str(ROOT / "absent-test.env"),
        "DATABASE_URL": database_url,
        "WAXOS_SECRET_KEY": TOKEN_SECRET,
        "WAXOS_LOG_LEVEL": "WARNING",
        "PUSHER_APP_ID": APP_ID,
        "PUSHER_KEY": PUSHER_KEY,
        "PUSHER_SECRET": SECRET,
        "PUSHER_CLUSTER": "local",
        "PUSHER_HOST": "127.0.0.1",
        "PUSHER_PORT": str(pusher_port),
        "PUSHER_USE_TLS": "false",
        # No fixed metrics port: suites running side by side would contend for 9464.
        "WAXOS_RELAY_METRICS_PORT": "0",
        **extra,
    }


def wait_for_port(port: int, seconds: float = 20.0) -> None:
    """Wait until something accepts connections on 127.0.0.1:`port`."""
    deadline = time.monotonic() + seconds
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"nothing listens on port {port}")
        time.sleep(0.02)


@contextlib.contextmanager
def waxos_process(*args: str, env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """`python -m waxos ARGS` in the background; stopped (SIGTERM, then SIGKILL) on exit."""
    process = subprocess.Popen(
        [sys.executable, "-m", "waxos", *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stderr is not None:
            process.stderr.close()


@contextlib.contextmanager
def pusher_server_process(
    port: int, app_id: str = APP_ID, key: str = PUSHER_KEY, secret: str = SECRET
) -> Iterator[subprocess.Popen[bytes]]:
    """`waxos pusher-server` on `port` (for app `app_id`/`key`/`secret`), ready to accept connections."""
    args = ("pusher-server", "--port", str(port), "--app-id", app_id, "--key", key, "--secret", secret)
    with waxos_process(*args, env=server_env("sqlite+aiosqlite:///unused.db", port)) as process:
        wait_for_port(port)
        yield process


@contextlib.contextmanager
def api_in_thread(database_url: str, pusher_port: int, **overrides: object) -> Iterator[str]:
    """The WAXOS API (and, by default, its relay) served by uvicorn in a thread; yields its base URL."""
    settings = make_settings(
        database_url,
        pusher_port=pusher_port,
        pusher_key=PUSHER_KEY,
        pusher_secret=SECRET,
        pusher_app_id=APP_ID,
        pusher_encryption_master_key_base64=None,
        **{"waxos_run_relay": True, **overrides},
    )
    port = free_port()
    config = uvicorn.Config(
        create_app(settings), host="127.0.0.1", port=port, log_config=None, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="waxos-api", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the API did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)


@dataclass
class NodeFollower:
    """A running `realtime_follower.mjs`: its output lines, collected as they arrive."""

    process: subprocess.Popen[str]
    lines: list[dict[str, Any]] = field(default_factory=list)
    _inbox: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)

    @classmethod
    @contextlib.contextmanager
    def start(cls, node: str, options: dict[str, Any], script: Path = FOLLOWER) -> Iterator[NodeFollower]:
        """Run the follower (or another script speaking JSON lines, e.g. `REALTIME_CLIENT`) with `options`;
        stop it on exit."""
        process = subprocess.Popen(
            [node, str(script), json.dumps(options)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        follower = cls(process)
        reader = threading.Thread(target=follower._read, daemon=True)
        reader.start()
        try:
            yield follower
        finally:
            with contextlib.suppress(OSError):
                follower.send("exit")
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            reader.join(timeout=5)
            for stream in (process.stdin, process.stdout, process.stderr):
                if stream is not None:
                    stream.close()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self._inbox.put(json.loads(line))

    def send(self, command: str) -> None:
        """Send a command line: disconnect, connect, exit."""
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def wait_for(self, condition: Callable[[list[dict[str, Any]]], bool], seconds: float = 30.0) -> None:
        """Collect lines until `condition(lines)` holds; fail with the lines after a generous deadline."""
        deadline = time.monotonic() + seconds
        while not condition(self.lines):
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self.process.poll() is not None:
                stderr = (
                    self.process.stderr.read()
                    if self.process.poll() is not None and self.process.stderr
                    else ""
                )
                raise AssertionError(f"condition not met; {self.summary()} {stderr}")
            with contextlib.suppress(queue.Empty):
                self.lines.append(self._inbox.get(timeout=min(remaining, 0.1)))

    def summary(self) -> str:
        """What happened, per channel: applied and live seqs, catch-up calls, errors; and state changes."""
        channels = sorted({line["channel"] for line in self.lines if "channel" in line})
        parts = [f"states: {[line.get('current', line.get('state')) for line in self.of('state')]}"]
        for channel in channels:
            catchups = [(line["after"], line["status"], line["seqs"]) for line in self.of("catchup", channel)]
            parts.append(
                f"{channel}: applied={self.seqs('applied', channel)} live={self.seqs('live', channel)} "
                f"catchups={catchups} errors={[line['message'] for line in self.of('error', channel)][-5:]}"
            )
        return "; ".join(parts)

    def of(self, kind: str, channel: str | None = None) -> list[dict[str, Any]]:
        """The lines of one kind (and channel)."""
        return [
            line for line in self.lines if line["kind"] == kind and channel in (None, line.get("channel"))
        ]

    def seqs(self, kind: str, channel: str) -> list[int]:
        """The seqs of one kind of line on `channel`, in order."""
        return [line["seq"] for line in self.of(kind, channel)]
