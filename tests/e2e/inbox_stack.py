"""Staff browsers for the inbox end to end: pusher-js clients under Node (the stack they run against is
`tests.support.run_stack`)."""

from __future__ import annotations

import contextlib
import json
import queue
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.environment import ROOT

CLIENT = Path(__file__).with_name("inbox_client.mjs")


@dataclass
class Browser:
    """One running `inbox_client.mjs`: what it reported, as JSON lines."""

    name: str
    process: subprocess.Popen[str]
    lines: list[dict[str, Any]] = field(default_factory=list)
    _inbox: queue.Queue[dict[str, Any]] = field(default_factory=queue.Queue)

    @classmethod
    @contextlib.contextmanager
    def start(cls, node: str, name: str, options: dict[str, Any]) -> Iterator[Browser]:
        """Run a client with `options` (see the script); stop it on exit."""
        process = subprocess.Popen(
            [node, str(CLIENT), json.dumps(options)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        browser = cls(name, process)
        reader = threading.Thread(target=browser._read, daemon=True)
        reader.start()
        try:
            yield browser
        finally:
            with contextlib.suppress(OSError, ValueError):
                browser.send("exit")
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

    def send(self, op: str, **fields: Any) -> None:
        """A command for the client: disconnect, connect, subscribe, exit."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"op": op, **fields}) + "\n")
        self.process.stdin.flush()

    def collect(self) -> None:
        """Take in whatever the client reported so far."""
        with contextlib.suppress(queue.Empty):
            while True:
                self.lines.append(self._inbox.get_nowait())

    def wait_for(self, condition: Callable[[Browser], bool], seconds: float = 60.0) -> None:
        """Collect lines until `condition(self)` holds; fail with what was seen after a generous deadline."""
        deadline = time.monotonic() + seconds
        while True:
            self.collect()
            if condition(self):
                return
            if time.monotonic() > deadline or self.process.poll() is not None:
                stderr = (
                    self.process.stderr.read()
                    if self.process.poll() is not None and self.process.stderr
                    else ""
                )
                raise AssertionError(f"{self.name}: condition not met; saw {self.lines} {stderr}")
            time.sleep(0.02)

    def of(self, kind: str, channel: str | None = None) -> list[dict[str, Any]]:
        """The lines of one kind (and channel), in order."""
        self.collect()
        return [
            line for line in self.lines if line["kind"] == kind and channel in (None, line.get("channel"))
        ]

    def applied(self, channel: str) -> list[tuple[str, dict[str, Any]]]:
        """(type, data) of the events the helper applied on `channel`, in order."""
        return [(line["type"], line["data"]) for line in self.of("applied", channel)]

    def applied_types(self, channel: str) -> list[str]:
        """The types of the events applied on `channel`, in order."""
        return [kind for kind, _ in self.applied(channel)]
