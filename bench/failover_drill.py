"""Benchmark: the provider failover drill, with its figures.

Run:  .venv/bin/python bench/failover_drill.py [--database-url URL] [--failover-after 2] [--failback-after 4]

Two local Pusher servers (primary and secondary), the API with its relay, three clients built with the
package (pusher-js under Node) following a workspace channel and their user channel, events emitted every
100 ms on four channels. The primary's process is SIGKILLed, later started again. Prints, per client: events
applied, lost (must be 0), applied twice (must be 0), out of order (must be 0), the longest time without a
new event from the kill on, when it went polling and live on the secondary after the kill, and live on the
primary again after the restart. The drill itself is tests/support/failover_drill.py (also run as a test).
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.support.failover_drill import DrillTiming, run_drill  # noqa: E402


def main() -> None:
    """Parse arguments, run the drill once, print the figures and the command."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    parser.add_argument("--failover-after", type=float, default=2.0)
    parser.add_argument("--failback-after", type=float, default=4.0)
    parser.add_argument("--probe-every", type=float, default=0.5)
    parser.add_argument("--poll-ms", type=int, default=1000)
    parser.add_argument("--fallback-after-ms", type=int, default=2000)
    args = parser.parse_args()
    node = shutil.which("node")
    if node is None:
        sys.exit("node is required (pusher-js runs under Node)")
    timing = DrillTiming(
        failover_after=args.failover_after,
        failback_after=args.failback_after,
        probe_every=args.probe_every,
        client={
            "fallbackAfterMs": args.fallback_after_ms,
            "pollMs": args.poll_ms,
            "maxPollMs": 4 * args.poll_ms,
            "switchDelayMs": 1000,
        },
    )
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'drill.db'}"
        result = asyncio.run(run_drill(node, url, timing))
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(f"machine: {platform.platform()}, python {platform.python_version()}, database {url.split(':')[0]}")
    print(
        f"settings: failover after {timing.failover_after} s, failback after {timing.failback_after} s, "
        f"probe every {timing.probe_every} s, client {timing.client}"
    )
    for line in result.lines():
        print(line)


if __name__ == "__main__":
    main()
