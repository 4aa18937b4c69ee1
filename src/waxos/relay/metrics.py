"""Prometheus metrics of the relay: backlog, age of the oldest undelivered event, delivery latency."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from waxos.relay.backoff import BreakerState

_DELIVERY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class RelayMetrics:
    """What the relay did and how far behind it is; registered beside the publisher's metrics."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.backlog = Gauge(
            "waxos_relay_backlog_events",
            "Logged events not yet delivered to Pusher",
            registry=self.registry,
        )
        self.oldest_age = Gauge(
            "waxos_relay_oldest_undelivered_seconds",
            "Age of the oldest undelivered event (0 when none)",
            registry=self.registry,
        )
        self.delivery_latency = Histogram(
            "waxos_relay_delivery_latency_seconds",
            "From an event's emission to Pusher accepting it",
            buckets=_DELIVERY_BUCKETS,
            registry=self.registry,
        )
        self.delivered = Counter(
            "waxos_relay_delivered_events",
            "Events the relay delivered to Pusher",
            registry=self.registry,
        )
        self.rejected = Counter(
            "waxos_relay_rejected_events",
            "Events Pusher refused as invalid (left to catch-up, never retried)",
            registry=self.registry,
        )
        self.failed_requests = Counter(
            "waxos_relay_failed_requests",
            "Publish requests that failed and will be retried, by failure kind",
            ["kind"],
            registry=self.registry,
        )
        self.held_channels = Gauge(
            "waxos_relay_held_channels",
            "Channels the relay cannot publish to (say, encrypted without a key), each backing off alone",
            registry=self.registry,
        )
        self.breaker = Gauge(
            "waxos_relay_breaker_open",
            "1 while the relay waits before calling Pusher again, else 0",
            registry=self.registry,
        )
        self.running = Gauge(
            "waxos_relay_running",
            "1 while the relay's loop runs, 0 once it has ended",
            registry=self.registry,
        )
        self.pruned = Counter(
            "waxos_relay_pruned_events",
            "Events removed from the log after the retention period",
            registry=self.registry,
        )
        self.terminated_users = Counter(
            "waxos_relay_terminated_users",
            "Users whose live connections the relay had Pusher close (their access ended)",
            registry=self.registry,
        )

    @staticmethod
    def count(counter: Counter) -> int:
        """The current value of an unlabelled counter."""
        return int(sum(s.value for m in counter.collect() for s in m.samples if s.name.endswith("_total")))

    def failures_by_kind(self) -> dict[str, int]:
        """Failed requests so far, by failure kind."""
        return {
            s.labels["kind"]: int(s.value)
            for m in self.failed_requests.collect()
            for s in m.samples
            if s.name.endswith("_total")
        }

    def observe_breaker(self, state: BreakerState) -> None:
        """Export the breaker state."""
        self.breaker.set(0 if state is BreakerState.CLOSED else 1)
