"""`waxos serve` as the benchmark's `--gc-freeze` runs it: the same app, with `gc.freeze()` after start-up.

Usage: python bench/serve_frozen.py ENV_FILE PORT

A what-if for the app's lifespan, not a way to run WAXOS: once start-up has built everything, freezing
moves those objects out of the cyclic collector's view, so the full collections that in-flight requests
keep triggering no longer walk the whole heap (on this machine each took ~100 ms and stalled every request).
"""

from __future__ import annotations

import gc
import socket
import sys
from pathlib import Path

import uvicorn

from waxos.app import create_app
from waxos.config import load_settings


def main() -> None:
    """Serve like `waxos serve --port PORT`, freezing the heap once the app has started."""
    env_file, port = Path(sys.argv[1]), int(sys.argv[2])
    config = uvicorn.Config(
        create_app(load_settings(env_file)),
        host="127.0.0.1",
        port=port,
        log_config=None,
        log_level="warning",
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    started = server.startup

    async def startup_then_freeze(sockets: list[socket.socket] | None = None) -> None:
        await started(sockets)
        gc.collect()
        gc.freeze()

    server.startup = startup_then_freeze  # type: ignore[method-assign]
    server.run()


if __name__ == "__main__":
    main()
