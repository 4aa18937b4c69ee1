"""What the machine offers tests: the repository root, free ports, PostgreSQL, Node; CI's no-skip rule.

`WAXOS_TEST_POSTGRES_URL` names the PostgreSQL database (default: the local `test` database). Tests that
need PostgreSQL, Node or Chromium skip with a reason where those are missing; with `WAXOS_TEST_STRICT=1`
(set by `.ci/run`) such a skip becomes a failure, so CI can never pass by skipping them.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_POSTGRES_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
STRICT = os.environ.get("WAXOS_TEST_STRICT") == "1"


def postgres_url() -> str:
    """The PostgreSQL URL the suite uses."""
    return os.environ.get("WAXOS_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)


def _port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def require_postgres() -> str:
    """The PostgreSQL URL, or skip (fail under WAXOS_TEST_STRICT) when no server answers."""
    from sqlalchemy.engine import make_url

    url = make_url(postgres_url())
    if not _port_open(url.host or "127.0.0.1", url.port or 5432):
        skip_or_fail(f"PostgreSQL is not reachable at {url.host}:{url.port or 5432}")
    return postgres_url()


def require_node() -> str:
    """The `node` executable with the project's npm packages installed, or skip (fail when strict)."""
    node = shutil.which("node")
    if node is None:
        skip_or_fail("Node.js is not installed (needed for pusher-js and the Node pusher SDK)")
    if not (ROOT / "node_modules" / "pusher-js").is_dir():
        skip_or_fail("node_modules is missing: run the README's test command (it runs npm ci)")
    assert node is not None
    return node


def require_promtool() -> str:
    """Prometheus's `promtool` (Debian's `prometheus` package; scripts/setup installs it as root), or skip."""
    promtool = shutil.which("promtool")
    if promtool is None:
        skip_or_fail("promtool is not installed (apt-get install prometheus; scripts/setup does as root)")
    assert promtool is not None
    return promtool


def require_chromium() -> str:
    """Debian's Chromium (or $WAXOS_CHROMIUM) and the `playwright` package to drive it, or skip."""
    chromium = os.environ.get("WAXOS_CHROMIUM", "/usr/bin/chromium")
    if not os.access(chromium, os.X_OK):
        skip_or_fail(
            f"Chromium is not installed at {chromium} (apt-get install chromium; scripts/setup does as root)"
        )
    try:
        import playwright  # noqa: F401
    except ImportError:
        skip_or_fail("the playwright package is missing: run scripts/setup")
    return chromium


def skip_or_fail(reason: str) -> None:
    """Skip with `reason`, or fail with it when CI asked for no skips."""
    if STRICT:
        pytest.fail(f"required in CI (WAXOS_TEST_STRICT=1): {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
