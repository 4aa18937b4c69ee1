"""What every `waxos` command shares: loading settings (and logging) from the command line, exit codes."""

from __future__ import annotations

import sys
from typing import Any

import click

from waxos.config import ConfigError, Settings, load_settings
from waxos.logs import configure_logging, secret_values

EXIT_FAILED = 1
EXIT_USAGE = 2


def settings_from(ctx: click.Context, **overrides: Any) -> Settings:
    """Load settings for a command and set up logging; exit 2 naming every bad variable."""
    try:
        settings = load_settings(ctx.find_root().obj.get("env_file"), **overrides)
    except ConfigError as exc:
        click.echo(f"waxos: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    key = settings.pusher_encryption_master_key_base64
    secondary = settings.pusher_secondary_secret
    configure_logging(
        settings.waxos_log_level,
        secret_values(
            settings.pusher_secret.get_secret_value(),
            settings.waxos_secret_key.get_secret_value(),
            key.get_secret_value() if key else None,
            secondary.get_secret_value() if secondary else None,
        ),
        sql_parameters=settings.waxos_log_sql_parameters,
    )
    return settings
