"""The `waxos` command group: every command family registered in one place."""

from __future__ import annotations

import click

from waxos import __version__
from waxos.cli.accounts import service_token_command
from waxos.cli.database import delete_workspace_command, migrate_command, seed_demo_command
from waxos.cli.events import emit_command, prune_command, relay_command
from waxos.cli.provider import provider_command
from waxos.cli.pusher import check, trigger
from waxos.cli.pusher_server import pusher_server_command
from waxos.cli.serve import serve


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


for command in (
    serve,
    check,
    trigger,
    pusher_server_command,
    migrate_command,
    seed_demo_command,
    delete_workspace_command,
    emit_command,
    relay_command,
    prune_command,
    provider_command,
    service_token_command,
):
    main.add_command(command)
