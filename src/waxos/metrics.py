"""Prometheus metrics of the API's doorways: channel auth decisions, catch-up answers, webhook deliveries.

The publisher's, the relay's and the usage sampler's metrics live beside their code; all of a process's
metrics share one registry, which `/metrics` exports.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from waxos.channels.policy import Decision, decision_label


class ServiceMetrics:
    """Counters the API's routes update; `app.state.metrics`."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.auth_decisions = Counter(
            "waxos_channel_auth_decisions",
            "Channel policy decisions at the Pusher auth and catch-up endpoints, by outcome and reason",
            ["endpoint", "outcome", "reason"],
            registry=self.registry,
        )
        self.catchup_requests = Counter(
            "waxos_catchup_requests",
            "Catch-up requests for one channel, by answer: ok, resync_required or denied",
            ["outcome"],
            registry=self.registry,
        )
        self.catchup_resync = Counter(
            "waxos_catchup_resync_required",
            "Catch-up answers of resync_required, by reason (too_old, ahead_of_head)",
            ["reason"],
            registry=self.registry,
        )
        self.webhook_deliveries = Counter(
            "waxos_webhook_deliveries",
            "Pusher webhook deliveries by event kind ('-' when refused before parsing) and verdict",
            ["kind", "verdict"],
            registry=self.registry,
        )

    def decided(self, endpoint: str, decision: Decision) -> None:
        """Count one channel policy decision made at `endpoint`."""
        outcome, reason = decision_label(decision)
        self.auth_decisions.labels(endpoint, outcome, reason).inc()

    def user_gone(self, endpoint: str) -> None:
        """Count a decision refused because the token's user no longer exists (answered 401)."""
        self.auth_decisions.labels(endpoint, "unauthenticated", "user_gone").inc()

    def catchup(self, outcome: str, resync_reason: str | None = None) -> None:
        """Count one catch-up answer; `resync_reason` when it was resync_required."""
        self.catchup_requests.labels(outcome).inc()
        if resync_reason is not None:
            self.catchup_resync.labels(resync_reason).inc()

    def webhook(self, kind: str, verdict: str) -> None:
        """Count one webhook event (or a whole delivery refused before parsing, as kind '-')."""
        self.webhook_deliveries.labels(kind, verdict).inc()
