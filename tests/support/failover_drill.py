"""The provider failover drill: two local Pusher servers, the API with its relay, three clients built with
the package, events emitted all along; the primary is killed, then brought back.

Used by tests/e2e/test_failover_drill.py (short thresholds), tests/clients/test_browser_failover.py
(its settings) and bench/failover_drill.py (prints figures).
Timeline: all clients live on the primary -> the primary's process is SIGKILLed -> clients poll -> the
relay switches to the secondary -> clients live on the secondary -> the primary is started again -> the
relay switches back after the failback time -> clients live on the primary. Events are emitted every
`emit_every` seconds on three channels throughout.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from tests.support.accounts import World, build_world, migrated
from tests.support.environment import free_port
from tests.support.events import emit_messages
from tests.support.realtime_stack import (
    APP_ID,
    REALTIME_CLIENT,
    SECRET,
    NodeFollower,
    api_in_thread,
    pusher_server_process,
)
from tests.support.settings import PUSHER_KEY
from waxos.channels.names import private_workspace_channel, user_channel

SECONDARY_APP_ID, SECONDARY_KEY, SECONDARY_SECRET = "200002", "second-key", "second-secret-0123456789"


@dataclass(frozen=True)
class DrillTiming:
    """Thresholds and pacing; the test uses short ones, the bench the same by default."""

    failover_after: float = 2.0
    failback_after: float = 4.0
    probe_every: float = 0.5
    emit_every: float = 0.1
    before_kill: float = 2.0
    on_secondary: float = 2.0
    after_failback: float = 2.0
    client: dict[str, Any] = field(
        default_factory=lambda: {
            "fallbackAfterMs": 1000,
            "pollMs": 500,
            "maxPollMs": 2000,
            "switchDelayMs": 500,
        }
    )


@dataclass
class ClientFigures:
    """What one client saw."""

    applied: int
    lost: int
    duplicates: int
    out_of_order: int
    longest_gap_s: float
    polling_after_kill_s: float | None
    live_on_secondary_after_kill_s: float | None
    live_on_primary_after_restart_s: float | None
    states: list[str]


@dataclass
class DrillResult:
    """Per client figures, and how many events were emitted per channel."""

    emitted: dict[str, int]
    clients: list[ClientFigures]

    def lines(self) -> list[str]:
        """The figures, one line each, for the bench's output."""
        out = [f"events emitted: {sum(self.emitted.values())} on {len(self.emitted)} channels"]
        for index, client in enumerate(self.clients, 1):
            out.append(
                f"client {index}: applied {client.applied}, lost {client.lost}, "
                f"duplicates {client.duplicates}, out of order {client.out_of_order}, "
                f"longest time without a new event {client.longest_gap_s:.2f} s, "
                f"polling {_s(client.polling_after_kill_s)} after the kill, live on the secondary "
                f"{_s(client.live_on_secondary_after_kill_s)} after the kill, live on the primary again "
                f"{_s(client.live_on_primary_after_restart_s)} after its restart; states {client.states}"
            )
        worst = max(self.clients, key=lambda c: c.longest_gap_s)
        out.append(
            f"worst: longest gap {worst.longest_gap_s:.2f} s, lost {sum(c.lost for c in self.clients)}, "
            f"duplicates {sum(c.duplicates for c in self.clients)}, time to live on the secondary "
            f"{_s(max((c.live_on_secondary_after_kill_s or float('inf')) for c in self.clients))}"
        )
        return out


def _s(value: float | None) -> str:
    return "never" if value is None or value == float("inf") else f"{value:.2f} s"


class Emitter:
    """Emits one event per channel every `every` seconds from a thread of its own, until stopped."""

    def __init__(self, database_url: str, channels: list[str], every: float) -> None:
        self.channels = channels
        self.every = every
        self.emitted = dict.fromkeys(channels, 0)
        self._database_url = database_url
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=lambda: asyncio.run(self._run()), name="drill-emitter", daemon=True
        )

    async def _run(self) -> None:
        async with migrated(self._database_url) as (_engine, sessions):
            while not self._stop.is_set():
                for channel in self.channels:
                    await emit_messages(sessions, channel, 1)
                    self.emitted[channel] += 1
                await asyncio.sleep(self.every)

    def __enter__(self) -> Emitter:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop emitting; return once the last transaction is committed."""
        self._stop.set()
        self._thread.join(timeout=30)

    def __exit__(self, *_: object) -> None:
        self.stop()


def _live_on(client: NodeFollower, provider: str, after_ms: float) -> float | None:
    """When (wall ms) the client went live on `provider` after `after_ms`, if it did."""
    for line in client.of("state"):
        if line["state"] == "live" and line.get("provider") == provider and line["wall"] >= after_ms:
            return float(line["wall"])
    return None


def _figures(
    client: NodeFollower, channels: list[str], emitted: dict[str, int], kill: float, restart: float
) -> ClientFigures:
    applied = client.of("applied")
    lost = duplicates = disorder = 0
    for channel in channels:
        seqs = [line["seq"] for line in applied if line["channel"] == channel]
        lost += len(set(range(1, emitted[channel] + 1)) - set(seqs))
        duplicates += len(seqs) - len(set(seqs))
        disorder += sum(1 for a, b in itertools.pairwise(seqs) if b <= a)
    # The longest time without a new event, from the kill until the drill stopped emitting.
    times = [line["wall"] for line in applied if line["wall"] >= kill]
    gaps = [b - a for a, b in zip([kill, *times], times, strict=False)]
    polling = next(
        (line["wall"] for line in client.of("state") if line["state"] == "polling" and line["wall"] >= kill),
        None,
    )
    secondary = _live_on(client, "secondary", kill)
    primary = _live_on(client, "primary", restart)
    return ClientFigures(
        applied=len(applied),
        lost=lost,
        duplicates=duplicates,
        out_of_order=disorder,
        longest_gap_s=max(gaps, default=0.0) / 1000,
        polling_after_kill_s=None if polling is None else (polling - kill) / 1000,
        live_on_secondary_after_kill_s=None if secondary is None else (secondary - kill) / 1000,
        live_on_primary_after_restart_s=None if primary is None else (primary - restart) / 1000,
        states=[line["state"] for line in client.of("state")],
    )


@contextlib.contextmanager
def _clients(
    node: str, api: str, world: World, channels_of: list[tuple[Any, list[str]]], options: dict[str, Any]
) -> Iterator[list[NodeFollower]]:
    with contextlib.ExitStack() as stack:
        yield [
            stack.enter_context(
                NodeFollower.start(
                    node,
                    {
                        "baseUrl": api,
                        "token": world.token(user, minutes=30),
                        "channels": channels,
                        "options": options,
                    },
                    REALTIME_CLIENT,
                )
            )
            for user, channels in channels_of
        ]


def secondary_settings(port: int, timing: DrillTiming) -> dict[str, Any]:
    """Settings overrides for a secondary local Pusher server on `port`, and the drill's thresholds."""
    return {
        "pusher_secondary_app_id": SECONDARY_APP_ID,
        "pusher_secondary_key": SECONDARY_KEY,
        "pusher_secondary_secret": SECONDARY_SECRET,
        "pusher_secondary_host": "127.0.0.1",
        "pusher_secondary_port": port,
        "pusher_secondary_use_tls": False,
        "waxos_failover_after_seconds": timing.failover_after,
        "waxos_failback_after_seconds": timing.failback_after,
        "waxos_provider_probe_seconds": timing.probe_every,
    }


def _is_live(client: NodeFollower, provider: str, since: float) -> Callable[[list[dict[str, Any]]], bool]:
    """A `wait_for` condition: `client` went live on `provider` after `since` (ms)."""
    return lambda _lines: _live_on(client, provider, since) is not None


def _has_applied(client: NodeFollower, counts: dict[str, int]) -> Callable[[list[dict[str, Any]]], bool]:
    """A `wait_for` condition: `client` applied at least `counts[channel]` events of each channel."""
    return lambda _lines: all(len(client.seqs("applied", ch)) >= n for ch, n in counts.items())


def _now_ms() -> float:
    return time.time() * 1000


async def run_drill(node: str, database_url: str, timing: DrillTiming) -> DrillResult:
    """Run the drill once; every wait has a generous deadline and fails with what each client saw."""
    primary_port, secondary_port = free_port(), free_port()
    async with migrated(database_url) as (_engine, sessions):
        world = await build_world(sessions)
        chats = private_workspace_channel(world.acme.id, "chats")
        users = [world.acme_admin, world.acme_agent, world.acme_agent2]
        channels_of = [(user, [chats, user_channel(user.id)]) for user in users]
        all_channels = [chats, *(user_channel(user.id) for user in users)]
        secondary = secondary_settings(secondary_port, timing)
        with (
            pusher_server_process(secondary_port, SECONDARY_APP_ID, SECONDARY_KEY, SECONDARY_SECRET),
            pusher_server_process(primary_port, APP_ID, PUSHER_KEY, SECRET) as primary,
            api_in_thread(database_url, primary_port, **secondary) as api,
            _clients(node, api, world, channels_of, timing.client) as clients,
        ):
            for client in clients:
                client.wait_for(_is_live(client, "primary", 0))
            with Emitter(database_url, all_channels, timing.emit_every) as emitter:
                time.sleep(timing.before_kill)
                primary.send_signal(signal.SIGKILL)
                primary.wait()
                kill = _now_ms()
                for client in clients:
                    client.wait_for(_is_live(client, "secondary", kill), 60)
                time.sleep(timing.on_secondary)
                with pusher_server_process(primary_port, APP_ID, PUSHER_KEY, SECRET):
                    restart = _now_ms()
                    for client in clients:
                        client.wait_for(_is_live(client, "primary", restart), 90)
                    time.sleep(timing.after_failback)
                    emitter.stop()
                    emitted = dict(emitter.emitted)
                    for client, (_user, channels) in zip(clients, channels_of, strict=True):
                        client.wait_for(
                            _has_applied(client, {ch: emitted[ch] for ch in channels}),
                            30,
                        )
            figures = [
                _figures(client, channels, emitted, kill, restart)
                for client, (_user, channels) in zip(clients, channels_of, strict=True)
            ]
    return DrillResult({c: emitted[c] for c in all_channels}, figures)
