"""Drive the official Node clients from Python: a pusher-js subscriber and the `pusher` Node SDK.

`NodeSubscriber.start(node, options)` runs tests/e2e/js/subscriber.js; everything pusher-js observes
comes back as JSON lines. Other test packages can reuse it, e.g. with
`{"authEndpoint": ".../api/v1/pusher/auth", "authHeaders": {"Authorization": "Bearer …"}}`.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path
from typing import Any

from tests.support.environment import ROOT

JS = Path(__file__).parent / "js"


class NodeSubscriber:
    """A running pusher-js client; `expect` waits for the next line matching a pattern."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[dict[str, Any]] = []
        self._matched: set[int] = set()

    @classmethod
    async def start(
        cls, node: str, options: dict[str, Any], *, wait_connected: bool = True
    ) -> NodeSubscriber:
        """Start `subscriber.js` with `options`; by default wait for the connection."""
        process = await asyncio.create_subprocess_exec(
            node,
            str(JS / "subscriber.js"),
            json.dumps(options),
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        subscriber = cls(process)
        if wait_connected:
            subscriber.socket_id = (await subscriber.expect("connected"))["socket_id"]
        return subscriber

    socket_id: str = ""

    async def _read_line(self, timeout: float) -> dict[str, Any]:
        assert self.process.stdout is not None
        raw = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        if not raw:
            stderr = b""
            if self.process.stderr is not None:
                stderr = await self.process.stderr.read()
            raise AssertionError(f"pusher-js exited: {stderr.decode(errors='replace')}")
        line: dict[str, Any] = json.loads(raw)
        self.lines.append(line)
        return line

    async def expect(self, kind: str, timeout: float = 10.0, **fields: Any) -> dict[str, Any]:
        """The first line not yet matched of type `kind` whose fields match, waiting for it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for index, line in enumerate(self.lines):
                if index in self._matched:
                    continue
                if line.get("type") == kind and all(line.get(k) == v for k, v in fields.items()):
                    self._matched.add(index)
                    return line
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise AssertionError(f"no {kind} {fields} in {self.lines}")
            try:
                await self._read_line(remaining)
            except TimeoutError:
                continue

    async def drain(self, quiet: float = 0.3) -> list[dict[str, Any]]:
        """Read until nothing arrives for `quiet` seconds; return every line seen so far."""
        while True:
            try:
                await self._read_line(quiet)
            except TimeoutError:
                return self.lines

    def events(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Channel events seen so far (optionally on one channel)."""
        return [
            line
            for line in self.lines
            if line.get("type") == "event" and (channel is None or line["channel"] == channel)
        ]

    async def send(self, op: str, **fields: Any) -> None:
        """A command for the driver (subscribe, trigger, signin, disconnect, …)."""
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps({"op": op, **fields}) + "\n").encode())
        await self.process.stdin.drain()

    async def close(self) -> None:
        """Stop the client and reap the process."""
        if self.process.returncode is None:
            try:
                await self.send("exit")
                await asyncio.wait_for(self.process.wait(), 5)
            except (TimeoutError, ConnectionError):
                self.process.kill()
                await self.process.wait()
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                await stream.read()


def node_publish(node: str, options: dict[str, Any], actions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run the Node SDK publisher; one result per action."""
    completed = subprocess.run(
        [node, str(JS / "publisher.js"), json.dumps({**options, "actions": actions})],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    return [json.loads(line) for line in completed.stdout.splitlines()]
