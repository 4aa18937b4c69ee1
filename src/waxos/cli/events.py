"""The `waxos emit`, `waxos relay` and `waxos prune` commands: the event log from the shell."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
from datetime import timedelta

import click
from prometheus_client import start_http_server

from waxos.channels.names import validate_channel_name
from waxos.cli.context import EXIT_USAGE, settings_from
from waxos.db.base import utcnow
from waxos.db.engine import make_engine, make_sessionmaker, read_only, transaction
from waxos.events import (
    MAX_EVENTS_PER_EMIT,
    ChannelRefused,
    Envelope,
    EventTooLarge,
    UnknownEvent,
    emit_many,
    parse_event,
)
from waxos.events.retention import prune
from waxos.providers.registry import ProviderServices
from waxos.publisher.service import PusherService
from waxos.pusher_protocol.names import ChannelKind, InvalidName
from waxos.relay.relay import RelayConfig, default_owner, relay_for
from waxos.usage.live import live_snapshot
from waxos.usage.metrics import UsageMetrics
from waxos.usage.recorder import recorder_for


@click.command("emit")
@click.argument("channel")
@click.argument("event")
@click.argument("data")
@click.option(
    "--repeat",
    default=1,
    show_default=True,
    type=click.IntRange(1, MAX_EVENTS_PER_EMIT),
    help="Append the event this many times, in one transaction.",
)
@click.pass_context
def emit_command(ctx: click.Context, channel: str, event: str, data: str, repeat: int) -> None:
    """Append a catalogued EVENT with JSON DATA to CHANNEL's log; the relay delivers it.

    Prints the sequence numbers assigned, e.g. `seq 5-14`.
    """
    settings = settings_from(ctx)
    with contextlib.suppress(InvalidName):  # emit names a bad channel name below
        kind = validate_channel_name(channel).kind
        if kind is ChannelKind.ENCRYPTED and settings.pusher_encryption_master_key_base64 is None:
            # The relay could never send it, and an undelivered event is never pruned: refuse it here.
            click.echo(f"waxos: refused: {channel} is encrypted and no master key is configured", err=True)
            sys.exit(EXIT_USAGE)
    try:
        payload = json.loads(data)
        if not isinstance(payload, dict):
            raise ValueError("DATA must be a JSON object")
        model = parse_event(event, payload)
    except (ValueError, UnknownEvent) as exc:
        # pydantic's ValidationError is a ValueError: its message lists every bad field.
        click.echo(f"waxos: invalid event: {exc}", err=True)
        sys.exit(EXIT_USAGE)

    async def append() -> list[Envelope]:
        engine = make_engine(settings.database_url)
        try:
            async with transaction(make_sessionmaker(engine)) as session:
                return await emit_many(session, channel, [model] * repeat)
        finally:
            await engine.dispose()

    try:
        envelopes = asyncio.run(append())
    except (InvalidName, ChannelRefused, EventTooLarge) as exc:
        click.echo(f"waxos: refused: {exc}", err=True)
        sys.exit(EXIT_USAGE)
    first, last = envelopes[0].seq, envelopes[-1].seq
    span = f"seq {first}" if first == last else f"seq {first}-{last}"
    click.echo(f"{span} on {channel} ({event}, {len(envelopes)} event(s), first id {envelopes[0].id})")


@click.command("relay")
@click.option("--relay-id", default=None, help="This relay's lease owner name [default: host-pid-random].")
@click.option(
    "--lease-seconds",
    default=None,
    type=click.FloatRange(0.5, 3600),
    help="How long another relay waits before taking over the channels of one that died "
    "[default: WAXOS_RELAY_LEASE_SECONDS, 3].",
)
@click.option(
    "--metrics-port",
    default=None,
    type=click.IntRange(0, 65535),
    help="Serve Prometheus /metrics on this port; 0 for none [default: WAXOS_RELAY_METRICS_PORT, 9464].",
)
@click.pass_context
def relay_command(
    ctx: click.Context, relay_id: str | None, lease_seconds: float | None, metrics_port: int | None
) -> None:
    """Deliver the event log to Pusher until SIGTERM or SIGINT (`waxos serve` runs one by default).

    Also rolls up usage, and serves its metrics (the relay's, the publisher's, live usage) at /metrics.
    """
    settings = settings_from(ctx)
    port = settings.waxos_relay_metrics_port if metrics_port is None else metrics_port
    config = RelayConfig.from_settings(
        settings,
        owner=relay_id or default_owner(),
        lease_seconds=settings.waxos_relay_lease_seconds if lease_seconds is None else lease_seconds,
    )

    async def run() -> None:
        engine = make_engine(settings.database_url)
        publisher = PusherService(settings)
        registry = publisher.metrics.registry
        providers = ProviderServices.from_settings(settings, make_sessionmaker(read_only(engine)), publisher)
        relay = relay_for(settings, engine, providers, config)
        usage = recorder_for(settings, engine, live_snapshot, UsageMetrics(settings, registry))
        server = None
        if port:
            # prometheus_client's own server, in a thread: scrapes never wait for the relay's event loop.
            try:
                server, _ = start_http_server(port, settings.waxos_relay_metrics_host, registry)
            except OSError as exc:
                raise click.ClickException(f"cannot serve relay metrics on port {port}: {exc}") from exc
            click.echo(f"relay metrics on http://{settings.waxos_relay_metrics_host}:{port}/metrics")
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, relay.stop)
        await usage.start()
        try:
            await relay.run()
        finally:
            await usage.aclose()
            if server is not None:
                server.shutdown()
            await providers.aclose()
            await engine.dispose()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run())


@click.command("prune")
@click.pass_context
def prune_command(ctx: click.Context) -> None:
    """Remove delivered events older than WAXOS_EVENT_RETENTION_HOURS from the log."""
    settings = settings_from(ctx)

    async def run() -> int:
        engine = make_engine(settings.database_url)
        try:
            retention = timedelta(hours=settings.waxos_event_retention_hours)
            return await prune(make_sessionmaker(engine), retention, utcnow())
        finally:
            await engine.dispose()

    click.echo(f"pruned {asyncio.run(run())} event(s)")
