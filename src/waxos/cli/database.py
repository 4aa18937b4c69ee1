"""The `waxos migrate`, `waxos seed-demo` and `waxos delete-workspace` commands."""

from __future__ import annotations

import asyncio

import click

from waxos.auth.seed import DEFAULT_DEMO_PASSWORD, DEMO_OPERATOR, DemoAccount, seed_demo
from waxos.auth.service import delete_workspace
from waxos.cli.context import EXIT_FAILED, settings_from
from waxos.config import Environment
from waxos.db.engine import make_engine, make_sessionmaker, transaction
from waxos.db.migrate import upgrade


@click.command("migrate")
@click.pass_context
def migrate_command(ctx: click.Context) -> None:
    """Apply pending database migrations to DATABASE_URL."""
    settings = settings_from(ctx)
    asyncio.run(upgrade(settings.database_url))
    click.echo("database is up to date")


@click.command("seed-demo")
@click.option(
    "--password",
    default=DEFAULT_DEMO_PASSWORD,
    show_default=True,
    help="Password for every demo account.",
)
@click.pass_context
def seed_demo_command(ctx: click.Context, password: str) -> None:
    """Create the demo workspaces Acme and Globex and their staff (never in production)."""
    settings = settings_from(ctx)
    if settings.waxos_env is Environment.PRODUCTION:
        raise click.ClickException("seed-demo creates known logins and refuses to run in production")
    if not password:
        raise click.BadParameter("must not be empty", param_hint="--password")
    accounts = asyncio.run(_seed(settings.database_url, password))
    click.echo("Demo logins (POST /api/v1/auth/login):")
    for account in accounts:
        click.echo(
            f"  {account.workspace:<8} {account.role.value:<6} {account.email:<20} password: {password}"
        )
    click.echo(f"  {'platform operator':<15} {DEMO_OPERATOR.email:<20} password: {password}")


async def _seed(database_url: str, password: str) -> tuple[DemoAccount, ...]:
    await upgrade(database_url)
    engine = make_engine(database_url)
    try:
        async with transaction(make_sessionmaker(engine)) as session:
            return await seed_demo(session, password)
    finally:
        await engine.dispose()


@click.command("delete-workspace")
@click.argument("workspace_id", type=click.IntRange(1))
@click.option("--yes", is_flag=True, help="Do it: without this flag nothing is deleted.")
@click.pass_context
def delete_workspace_command(ctx: click.Context, workspace_id: int, yes: bool) -> None:
    """Delete a workspace, its memberships and invitations, and its event log with its channel heads."""
    settings = settings_from(ctx)
    if not yes:
        raise click.UsageError(f"this deletes workspace {workspace_id} and its event history: add --yes")
    if not asyncio.run(_delete(settings.database_url, workspace_id)):
        click.echo(f"waxos: no workspace {workspace_id}", err=True)
        ctx.exit(EXIT_FAILED)
    click.echo(f"workspace {workspace_id} deleted, with its memberships, invitations and event log")


async def _delete(database_url: str, workspace_id: int) -> bool:
    engine = make_engine(database_url)
    try:
        async with transaction(make_sessionmaker(engine)) as session:
            return await delete_workspace(session, workspace_id)
    finally:
        await engine.dispose()
