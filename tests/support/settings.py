"""The one way tests build `Settings`: fake credentials, a closed Pusher port, and any overrides."""

from __future__ import annotations

import base64

from tests.support.environment import free_port
from waxos.config import Settings, load_settings

TOKEN_SECRET = "test-signing-key-not-secret-0123456789"
PUSHER_KEY = "test-key"
PUSHER_SECRET = "test-pusher-secret"
MASTER_KEY = base64.b64encode(bytes(range(32))).decode()


def make_settings(database_url: str | None = None, **overrides: object) -> Settings:
    """Settings for tests: fake credentials, `database_url` when given, encryption on, no relay.

    Pass `pusher_encryption_master_key_base64=None` for a deployment without encrypted channels, and
    `waxos_run_relay=True` for an app that runs its relay.
    """
    values: dict[str, object] = {
        "waxos_secret_key": TOKEN_SECRET,
        "waxos_run_relay": False,
        "pusher_app_id": "100001",
        "pusher_key": PUSHER_KEY,
        "pusher_secret": PUSHER_SECRET,
        "pusher_cluster": "local",
        "pusher_host": "127.0.0.1",
        # A closed port, not 6001: a developer's running local server (whose credentials differ) must not
        # answer these apps, where the start-up check would refuse to start.
        "pusher_port": free_port(),
        "pusher_use_tls": False,
        "pusher_timeout_seconds": 2,
        "pusher_encryption_master_key_base64": MASTER_KEY,
    }
    if database_url is not None:
        values["database_url"] = database_url
    values.update(overrides)
    return load_settings(env_file=None, **values)
