"""`waxos serve`: the HTTP API, and the relay beside it."""

from __future__ import annotations

from typing import Any

import click

from waxos.cli.context import settings_from
from waxos.config import Settings


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's proxy settings: X-Forwarded-For believed only from `WAXOS_TRUSTED_PROXIES`.

    The client address is what the login throttle counts by; a header from anyone else would let every
    request claim a fresh address.
    """
    proxies = settings.waxos_trusted_proxies
    return {"proxy_headers": bool(proxies), "forwarded_allow_ips": proxies or None}


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.pass_context
def serve(ctx: click.Context, host: str, port: int) -> None:
    """Serve the HTTP API (and, unless WAXOS_RUN_RELAY=false, the event relay)."""
    import uvicorn

    from waxos.app import create_app

    settings = settings_from(ctx)
    uvicorn.run(
        create_app(settings, freeze_gc=True), host=host, port=port, log_config=None, **proxy_options(settings)
    )
