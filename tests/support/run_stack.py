"""The stack as `scripts/run` starts it: `waxos pusher-server` and `waxos serve` as processes sharing one
env file, the local server posting its webhooks to the API (for the inbox and console end to end)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tests.support.environment import free_port
from tests.support.realtime_stack import wait_for_port, waxos_process
from tests.support.settings import PUSHER_KEY, TOKEN_SECRET

APP_ID, SECRET = "100001", "waxos-dev-secret"


@dataclass(frozen=True)
class Stack:
    """Where the running API and local Pusher server listen."""

    api: str
    pusher_host: str
    pusher_port: int


@contextlib.contextmanager
def inbox_stack(database_url: str, env_dir: Path, **settings: str) -> Iterator[Stack]:
    """The local Pusher server and the API (with its relay) as processes sharing one env file."""
    api_port, pusher_port = free_port(), free_port()
    values = {
        "WAXOS_ENV": "development",
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
        "PUSHER_WEBHOOK_URL": f"http://127.0.0.1:{api_port}/api/v1/pusher/webhooks",
        **settings,
    }
    env_file = env_dir / "inbox-e2e.env"
    env_file.write_text("".join(f"{name}={value}\n" for name, value in values.items()))
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PUSHER_", "WAXOS_", "DATABASE_"))}
    env = {**clean, "WAXOS_ENV_FILE": str(env_file)}
    with (
        waxos_process("pusher-server", env=env),
        waxos_process("serve", "--host", "127.0.0.1", "--port", str(api_port), env=env),
    ):
        wait_for_port(pusher_port)
        wait_for_port(api_port)
        yield Stack(f"http://127.0.0.1:{api_port}", "127.0.0.1", pusher_port)
