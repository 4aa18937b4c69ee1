"""`waxos provider status|use`: show which Pusher-compatible provider is active, and switch it by hand."""

from __future__ import annotations

import asyncio

import click

from waxos.cli.context import EXIT_FAILED, settings_from
from waxos.config import Settings
from waxos.db.engine import make_engine, make_sessionmaker, transaction
from waxos.providers.state import ActiveProvider, ChangedBy, Provider, read_active, switch


@click.group("provider")
def provider_command() -> None:
    """The active real-time provider (primary or secondary) and its epoch."""


@provider_command.command("status")
@click.pass_context
def status_command(ctx: click.Context) -> None:
    """Print the active provider, its epoch, and when, by whom and why it last changed."""
    settings = settings_from(ctx)
    active = asyncio.run(_read(settings))
    click.echo(_describe(active))
    for provider in Provider:
        click.echo(f"  {provider.value:<9} {_endpoint(settings, provider)}")


@provider_command.command("use")
@click.argument("provider", type=click.Choice([p.value for p in Provider]))
@click.option("--reason", default="by hand", show_default=True, help="Recorded with the switch.")
@click.pass_context
def use_command(ctx: click.Context, provider: str, reason: str) -> None:
    """Make PROVIDER active now: a new epoch; relays deliver to it and clients reconnect to it.

    A switch made by hand is never undone automatically: only a failover (the active provider's circuit
    staying open) or another `use` changes it.
    """
    settings = settings_from(ctx)
    target = Provider(provider)
    if target is Provider.SECONDARY and not settings.secondary_configured:
        click.echo("waxos: no secondary provider is configured (PUSHER_SECONDARY_* variables)", err=True)
        raise SystemExit(EXIT_FAILED)
    before, after = asyncio.run(_use(settings, target, reason))
    if after is None:
        click.echo(f"{target.value} is already active. {_describe(before)}")
    else:
        click.echo(f"switched from {before.provider.value} to {_describe(after)}")


async def _read(settings: Settings) -> ActiveProvider:
    engine = make_engine(settings.database_url)
    try:
        async with transaction(make_sessionmaker(engine)) as session:
            return await read_active(session, settings)
    finally:
        await engine.dispose()


async def _use(
    settings: Settings, target: Provider, reason: str
) -> tuple[ActiveProvider, ActiveProvider | None]:
    engine = make_engine(settings.database_url)
    try:
        async with transaction(make_sessionmaker(engine)) as session:
            before = await read_active(session, settings)
            if before.provider is target:
                return before, None
            after = await switch(
                session, settings, target, seen_epoch=before.epoch, by=ChangedBy.MANUAL, reason=reason
            )
            return before, after
    finally:
        await engine.dispose()


def _describe(active: ActiveProvider) -> str:
    return (
        f"active: {active.provider.value}, epoch {active.epoch}, "
        f"since {active.changed_at:%Y-%m-%d %H:%M:%S} UTC ({active.changed_by.value}: {active.reason})"
    )


def _endpoint(settings: Settings, provider: Provider) -> str:
    if provider is Provider.SECONDARY:
        if not settings.secondary_configured:
            return "not configured"
        settings = settings.for_secondary()
    return f"app {settings.pusher_app_id} at {settings.pusher_api_host}:{settings.pusher_api_port}"
