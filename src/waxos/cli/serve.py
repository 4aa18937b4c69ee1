"""`waxos serve`: the HTTP API, and the relay beside it."""

from __future__ import annotations

import click

from waxos.cli.context import settings_from


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
        create_app(settings, freeze_gc=True), host=host, port=port, log_config=None, proxy_headers=False
    )
