"""Prometheus metrics of the real-time layer, in a registry of their own (no import-time globals)."""

from __future__ import annotations

from collections import deque

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from waxos.publisher.results import PusherResult

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class PublishMetrics:
    """Calls to the Pusher HTTP API: outcomes, latency, batch sizes."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        self.api_calls = Counter(
            "waxos_pusher_api_calls",
            "HTTP API calls to Pusher, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.published_events = Counter(
            "waxos_published_events",
            "Events published to Pusher, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.publish_latency = Histogram(
            "waxos_publish_latency_seconds",
            "Latency of publish requests to Pusher",
            buckets=_LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "waxos_publish_batch_size",
            "Events per batch request",
            buckets=(1, 2, 3, 5, 8, 10),
            registry=self.registry,
        )
        self.failure_rate = Gauge(
            "waxos_publish_failure_ratio",
            "Failed share of the last 200 publish requests",
            registry=self.registry,
        )
        self._recent: deque[bool] = deque(maxlen=200)
        self._recent_failed = 0
        # Labelled children by outcome: looking them up costs a lock per call, on the relay's hot path.
        self._children: dict[str, tuple[Counter, Counter]] = {}

    def observe_call(self, result: PusherResult, publish: bool) -> None:
        """Count one API call; publishes also feed latency, event counts and the failure ratio."""
        outcome = "ok" if result.ok else str(result.failure)
        children = self._children.get(outcome)
        if children is None:
            children = self._children[outcome] = (
                self.api_calls.labels(outcome),
                self.published_events.labels(outcome),
            )
        calls, events = children
        calls.inc()
        if not publish:
            return
        events.inc(result.events)
        self.publish_latency.observe(result.duration_ms / 1000)
        if len(self._recent) == self._recent.maxlen:
            self._recent_failed -= self._recent[0]
        self._recent.append(not result.ok)
        self._recent_failed += not result.ok
        self.failure_rate.set(self._recent_failed / len(self._recent))
