"""What the local server needs to run: the app it serves, where it listens, where webhooks go."""

from __future__ import annotations

from dataclasses import dataclass

from waxos.pusher_protocol import AppConfig


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """The served app plus the adapter's own limits; the repr never shows the secret."""

    app: AppConfig
    host: str = "127.0.0.1"
    port: int = 6001
    webhook_url: str | None = None
    # A client that cannot keep up is disconnected (4100, reconnect after backing off) rather than
    # letting its queue grow without bound.
    max_queued_frames: int = 10_000
    max_http_body_bytes: int = 1_048_576
    max_ws_frame_bytes: int = 1_048_576
    webhook_timeout: float = 5.0
    webhook_give_up_after: float = 300.0
