"""Running the `waxos` command as an operator does: a fresh interpreter, only the environment given."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def run_waxos(
    *args: str, env: dict[str, str], cwd: Path, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    """`python -m waxos *args` in `cwd` with `env` and no PUSHER_/WAXOS_/DATABASE_ variable of ours."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PUSHER_", "WAXOS_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "-m", "waxos", *args],
        env={**clean, "WAXOS_ENV_FILE": str(cwd / "none.env"), **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def write_env_file(directory: Path, database_url: str, **extra: str) -> str:
    """An env file in `directory` with fake Pusher credentials, `database_url` and `extra`; its path."""
    values = {
        "PUSHER_APP_ID": "100001",
        "PUSHER_KEY": "test-key",
        "PUSHER_SECRET": "test-pusher-secret",
        "PUSHER_CLUSTER": "local",
        "DATABASE_URL": database_url,
        **extra,
    }
    path = directory / "test.env"
    path.write_text("".join(f"{name}={value}\n" for name, value in values.items()))
    return str(path)
