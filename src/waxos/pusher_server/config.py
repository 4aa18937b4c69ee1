"""What the local server needs to run: the app it serves, where it listens, where webhooks go."""

from __future__ import annotations

from dataclasses import dataclass

from waxos.pusher_protocol import AppConfig

# Sockets one client address may hold at once (0: no limit); beyond it a connection gets 4100.
# Generous for development (every tab of every browser on one machine). The address is uvicorn's:
# X-Forwarded-For is believed only from FORWARDED_ALLOW_IPS (default 127.0.0.1), so behind a proxy on
# another host every client shares the proxy's address: raise the limit or set 0 there.
MAX_CONNECTIONS_PER_ADDRESS = 1_000


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """The served app plus the adapter's own limits; the repr never shows the secret."""

    app: AppConfig
    host: str = "127.0.0.1"
    port: int = 6001
    webhook_url: str | None = None
    # A client that cannot keep up is disconnected (4100, reconnect after backing off) once this many
    # bytes wait for it, rather than letting its queue grow without bound: a hundred full-size events.
    max_queued_bytes: int = 1_048_576
    max_connections_per_address: int = MAX_CONNECTIONS_PER_ADDRESS
    max_http_body_bytes: int = 1_048_576
    max_ws_frame_bytes: int = 1_048_576
    webhook_timeout: float = 5.0
    webhook_give_up_after: float = 300.0
