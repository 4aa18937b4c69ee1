"""`waxos check` and `waxos trigger`: talk to the configured Pusher API directly (diagnostics)."""

from __future__ import annotations

import asyncio
import json
import sys

import click

from waxos.cli.context import EXIT_FAILED, EXIT_USAGE, settings_from
from waxos.publisher.credentials import CredentialCheck, check_credentials
from waxos.publisher.results import PusherResult
from waxos.publisher.service import PublishInvalid, PusherService


@click.command("check")
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


@click.command("trigger")
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
