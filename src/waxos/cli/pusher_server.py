"""`waxos pusher-server`: run the local Pusher-compatible server from flags or PUSHER_* settings."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import click
from dotenv import dotenv_values

from waxos.pusher_protocol import AppConfig
from waxos.pusher_protocol.config import MAX_SUBSCRIPTIONS_PER_CONNECTION
from waxos.pusher_protocol.limits import CLIENT_EVENTS_PER_SECOND
from waxos.pusher_server.config import MAX_CONNECTIONS_PER_ADDRESS, ServerConfig
from waxos.pusher_server.runner import run

_ENV_FILE_VARIABLE = "WAXOS_ENV_FILE"


def env_file_values(path: str | None = None) -> dict[str, str]:
    """PUSHER_* values of the env file `load_settings` reads: `path`, else `$WAXOS_ENV_FILE`, else `.env`.

    The file is parsed by python-dotenv, as pydantic-settings parses it for the service (quotes,
    escapes, inline comments, `${VAR}` expansion), so both see the same secret. Only the variables
    this command needs are taken, and nothing is validated beyond them: the local server must start
    without the rest of the service's settings. A `path` that is not a file is a usage error.
    """
    chosen = Path(path or os.environ.get(_ENV_FILE_VARIABLE) or ".env")
    if not chosen.is_file():
        if path:
            raise click.UsageError(f"env file {chosen} does not exist")
        return {}
    values: dict[str, str] = {}
    # Settings are case-insensitive (pydantic-settings' case_sensitive=False).
    for name, value in dotenv_values(chosen).items():
        if name.upper().startswith("PUSHER_") and value is not None:
            values[name.upper()] = value
    return values


def _setting(name: str, file_values: dict[str, str]) -> str | None:
    # Process variables win over the file, as in `load_settings`.
    value = os.environ.get(name)
    if value is None:
        value = file_values.get(name)
    return value or None


@click.command("pusher-server")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port [PUSHER_PORT or 6001].")
@click.option("--app-id", default=None, help="App id [PUSHER_APP_ID].")
@click.option("--key", default=None, help="App key [PUSHER_KEY].")
@click.option("--secret", default=None, help="App secret [PUSHER_SECRET].")
@click.option("--webhook-url", default=None, help="Where to POST webhooks [PUSHER_WEBHOOK_URL].")
@click.option(
    "--enable-client-events/--disable-client-events",
    default=None,
    help="Relay client-* events [PUSHER_ENABLE_CLIENT_EVENTS, default off].",
)
@click.option(
    "--subscription-count/--no-subscription-count",
    default=None,
    help="Pusher's subscription counting: pusher_internal:subscription_count and its webhook "
    "[PUSHER_ENABLE_SUBSCRIPTION_COUNT, default on].",
)
@click.option(
    "--client-event-rate-limit",
    type=click.IntRange(0),
    default=CLIENT_EVENTS_PER_SECOND,
    show_default=True,
    help="Client events per second per connection; 0 for no limit.",
)
@click.option(
    "--max-connections-per-address",
    type=click.IntRange(0),
    default=MAX_CONNECTIONS_PER_ADDRESS,
    show_default=True,
    help="Sockets one client address may hold; 0 for no limit (behind a remote proxy, all share one).",
)
@click.option(
    "--max-subscriptions-per-connection",
    type=click.IntRange(0),
    default=MAX_SUBSCRIPTIONS_PER_CONNECTION,
    show_default=True,
    help="Channels one socket may join; 0 for no limit.",
)
@click.pass_context
def pusher_server_command(
    ctx: click.Context,
    host: str,
    port: int | None,
    app_id: str | None,
    key: str | None,
    secret: str | None,
    webhook_url: str | None,
    enable_client_events: bool | None,
    subscription_count: bool | None,
    client_event_rate_limit: int,
    max_connections_per_address: int,
    max_subscriptions_per_connection: int,
) -> None:
    """Run a local Pusher Channels-compatible server (protocol 7 and the HTTP API)."""
    root = ctx.find_root().obj
    file_values = env_file_values(root.get("env_file") if isinstance(root, dict) else None)
    app_id = app_id or _setting("PUSHER_APP_ID", file_values)
    key = key or _setting("PUSHER_KEY", file_values)
    secret = secret or _setting("PUSHER_SECRET", file_values)
    webhook_url = webhook_url or _setting("PUSHER_WEBHOOK_URL", file_values)
    if port is None:
        configured = _setting("PUSHER_PORT", file_values) or "6001"
        if not (
            configured.isascii()
            and configured.isdigit()
            and len(configured) <= 5
            and int(configured) <= 65535
        ):
            raise click.UsageError("PUSHER_PORT must be a port number (0-65535)")
        port = int(configured)
    if enable_client_events is None:
        flag = _setting("PUSHER_ENABLE_CLIENT_EVENTS", file_values) or "false"
        enable_client_events = flag.lower() in {"1", "true", "yes", "on"}
    if subscription_count is None:
        # On in development, as this server is for development: clients can rely on the counts.
        flag = _setting("PUSHER_ENABLE_SUBSCRIPTION_COUNT", file_values) or "true"
        subscription_count = flag.lower() in {"1", "true", "yes", "on"}
    if not app_id or not key or not secret:
        given = {"PUSHER_APP_ID": app_id, "PUSHER_KEY": key, "PUSHER_SECRET": secret}
        missing = ", ".join(name for name, value in given.items() if not value)
        raise click.UsageError(f"set {missing} (flag, environment or env file)")
    if not (app_id.isascii() and app_id.isdigit()):
        raise click.UsageError("PUSHER_APP_ID must be numeric, as the official SDKs require")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = AppConfig(
        app_id=app_id,
        key=key,
        secret=secret,
        enable_client_events=enable_client_events,
        enable_subscription_count=subscription_count,
        client_event_rate_limit=client_event_rate_limit,
        max_subscriptions_per_connection=max_subscriptions_per_connection,
    )
    server = ServerConfig(
        app=app,
        host=host,
        port=port,
        webhook_url=webhook_url,
        max_connections_per_address=max_connections_per_address,
    )
    run(server)
