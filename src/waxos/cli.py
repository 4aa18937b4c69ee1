"""The `waxos` command: serve the API, check settings, publish, and the commands each part adds."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import click

from waxos import __version__
from waxos.config import ConfigError, Settings, load_settings
from waxos.logs import configure_logging, secret_values
from waxos.pusher_server.command import pusher_server_command
from waxos.realtime.credentials import CredentialCheck, check_credentials
from waxos.realtime.publisher import PublishInvalid, PusherService
from waxos.realtime.results import PusherResult

EXIT_FAILED = 1
EXIT_USAGE = 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="waxos")
@click.option(
    "--env-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Read settings from this file instead of $WAXOS_ENV_FILE or .env.",
)
@click.pass_context
def main(ctx: click.Context, env_file: str | None) -> None:
    """WAXOS real-time layer."""
    ctx.obj = {"env_file": env_file}


def settings_from(ctx: click.Context, **overrides: Any) -> Settings:
    """Load settings for a command and set up logging; exit 2 naming every bad variable."""
    try:
        settings = load_settings(ctx.find_root().obj.get("env_file"), **overrides)
    except ConfigError as exc:
        click.echo(f"waxos: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    key = settings.pusher_encryption_master_key_base64
    configure_logging(
        settings.waxos_log_level,
        secret_values(
            settings.pusher_secret.get_secret_value(),
            settings.waxos_secret_key.get_secret_value(),
            key.get_secret_value() if key else None,
        ),
    )
    return settings


@main.command()
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


@main.command()
@click.pass_context
def check(ctx: click.Context) -> None:
    """Validate settings and make one signed read call to the configured Pusher API."""
    settings = settings_from(ctx)

    async def call() -> CredentialCheck:
        service = PusherService(settings)
        try:
            return await check_credentials(service, settings)
        finally:
            await service.aclose()

    outcome = asyncio.run(call())
    click.echo(outcome.line, err=not outcome.result.ok)
    sys.exit(0 if outcome.result.ok else EXIT_FAILED)


@main.command()
@click.argument("channel")
@click.argument("event")
@click.argument("data")
@click.option("--socket-id", default=None, help="Exclude this connection from delivery.")
@click.pass_context
def trigger(ctx: click.Context, channel: str, event: str, data: str, socket_id: str | None) -> None:
    """Publish one event straight to Pusher (a diagnostic: it bypasses the event log)."""
    settings = settings_from(ctx)
    try:
        payload = json.loads(data)
    except ValueError as exc:
        click.echo(f"waxos: DATA is not JSON: {exc}", err=True)
        sys.exit(EXIT_USAGE)

    async def call() -> PusherResult:
        service = PusherService(settings)
        try:
            return await service.trigger(channel, event, payload, socket_id)
        finally:
            await service.aclose()

    try:
        result = asyncio.run(call())
    except PublishInvalid as exc:
        click.echo(f"waxos: invalid: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    if result.ok:
        click.echo(f"ok: {event} published to {channel} in {result.duration_ms:.1f} ms")
        return
    click.echo(f"failed: {result.failure}: status {result.status}: {result.reason}", err=True)
    sys.exit(EXIT_FAILED)


# Commands of the other parts are registered below, one line each.

from waxos.auth.commands import migrate_command, seed_demo_command  # noqa: E402

main.add_command(migrate_command)
main.add_command(seed_demo_command)
main.add_command(pusher_server_command)
from waxos.realtime.commands import emit_command, prune_command, relay_command  # noqa: E402

main.add_command(emit_command)
main.add_command(relay_command)
main.add_command(prune_command)
