"""Prometheus gauges of live usage per workspace and of the configured plan limits."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Gauge

from waxos.config import Settings
from waxos.usage.rollup import LiveCounts
from waxos.usage.tables import NO_WORKSPACE


class UsageMetrics:
    """What the usage sampler saw last, and the limits the alerts compare it with."""

    def __init__(self, settings: Settings, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self._shown: set[str] = set()
        self.connections = Gauge(
            "waxos_workspace_connections",
            "Open Pusher connections of a workspace's staff (from webhooks)",
            ["workspace"],
            registry=self.registry,
        )
        self.subscriptions = Gauge(
            "waxos_workspace_subscriptions",
            "Channel subscriptions on a workspace's channels (from webhooks)",
            ["workspace"],
            registry=self.registry,
        )
        self.presence_members = Gauge(
            "waxos_workspace_presence_members",
            "Members of a workspace's presence channel (from webhooks)",
            ["workspace"],
            registry=self.registry,
        )
        self.pusher_messages_today = Gauge(
            "waxos_usage_pusher_messages_today",
            "Estimated Pusher messages of all workspaces this UTC day (Pusher's daily limit counts these)",
            registry=self.registry,
        )
        limits = (
            (
                "waxos_plan_max_connections",
                "The plan's connection limit",
                settings.waxos_plan_max_connections,
            ),
            (
                "waxos_plan_max_messages_per_day",
                "The plan's daily message limit",
                settings.waxos_plan_max_messages_per_day,
            ),
            (
                "waxos_plan_warn_ratio",
                "Share of a plan limit where alerts warn",
                settings.waxos_plan_warn_ratio,
            ),
        )
        for name, documentation, value in limits:
            Gauge(name, documentation, registry=self.registry).set(value)

    def show_live(self, counts: Mapping[int, LiveCounts]) -> None:
        """Export `counts`, dropping workspaces no longer reported (never clearing all: a scrape meanwhile
        would see none)."""
        shown = {str(w): live for w, live in counts.items() if w != NO_WORKSPACE}
        for label in self._shown - shown.keys():
            for gauge in (self.connections, self.subscriptions, self.presence_members):
                gauge.remove(label)
        for label, live in shown.items():
            self.connections.labels(label).set(live.connections)
            self.subscriptions.labels(label).set(live.subscriptions)
            self.presence_members.labels(label).set(live.presence_members)
        self._shown = set(shown)
