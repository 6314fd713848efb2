"""HostMetrics: the Prometheus metrics of one runtime host, in a registry of its own."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import version
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

LATENCY_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)  # fmt: skip
UNKNOWN = "unknown"


class HostMetrics:
    """Every metric the host exports (see the README's operations section).

    Labels only take bounded values: node slugs, handler types and operations the
    host knows (else ``unknown``), error codes, topic names, partition numbers.
    Ids never become labels.
    """

    def __init__(self) -> None:
        self._envelope_children: dict[tuple[str, str, str, str], Any] = {}
        self._latency_children: dict[tuple[str, str], Any] = {}
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.envelopes = Counter(
            "onex_envelopes",
            "Envelopes answered, by node, handler, operation and outcome",
            ["node", "handler_type", "operation", "outcome"],
            registry=r,
        )
        self.handler_latency = Histogram(
            "onex_handler_latency_seconds",
            "Time spent in a handler's execute",
            ["handler_type", "operation"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.in_flight = Gauge(
            "onex_envelopes_in_flight",
            "Envelopes fetched but not yet answered and acked",
            registry=r,
        )
        self.dead_letters = Counter(
            "onex_dead_letters",
            "Records sent to a dead-letter topic, by reason",
            ["topic", "reason"],
            registry=r,
        )
        partition = ["group", "topic", "partition"]
        self.consumer_lag = Gauge(
            "onex_consumer_lag", "Log end offset minus committed offset", partition, registry=r
        )
        self.committed_offset = Gauge(
            "onex_consumer_committed_offset",
            "Offset committed by the group",
            partition,
            registry=r,
        )
        self.log_end_offset = Gauge(
            "onex_log_end_offset",
            "Next offset to be written to the partition",
            partition,
            registry=r,
        )
        self.lag_age = Gauge(
            "onex_consumer_lag_age_seconds",
            "Seconds since the lag gauges were last refreshed from the broker (stale when high)",
            registry=r,
        )
        self.end_below_committed = Counter(
            "onex_broker_end_offset_below_committed",
            "Refreshes where the broker reported a log end below the committed offset",
            partition,
            registry=r,
        )
        self.handler_up = Gauge(
            "onex_handler_up",
            "1 if the handler's health check passes",
            ["handler_type"],
            registry=r,
        )
        self.handler_retries = Counter(
            "onex_handler_retries",
            "Retries of handler calls, by the call's final outcome (success, failure)",
            ["handler_type", "outcome"],
            registry=r,
        )
        self.circuit_state = Gauge(
            "onex_handler_circuit_state",
            "A handler's circuit breaker: 0 closed, 1 half-open, 2 open",
            ["handler_type"],
            registry=r,
        )
        self.rate_limit_wait = Histogram(
            "onex_handler_rate_limit_wait_seconds",
            "Time a call waited for its handler's rate limit",
            ["handler_type"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        Gauge(
            "onex_build_info", "Version of onex_stream", ["version"], registry=r
        ).labels(version=version("onex_stream")).set(1)  # fmt: skip

    def count_envelope(self, node: str, handler_type: str, operation: str, outcome: str) -> None:
        """One answered envelope (label children are cached: this is the hot path)."""
        key = (node, handler_type, operation, outcome)
        child = self._envelope_children.get(key)
        if child is None:
            child = self._envelope_children[key] = self.envelopes.labels(*key)
        child.inc()

    def observe_latency(self, handler_type: str, operation: str, seconds: float) -> None:
        """One handler ``execute`` duration."""
        key = (handler_type, operation)
        child = self._latency_children.get(key)
        if child is None:
            child = self._latency_children[key] = self.handler_latency.labels(*key)
        child.observe(seconds)

    def track_in_flight(self, count: Callable[[], int]) -> None:
        """Report ``count()`` as the in-flight gauge at every scrape."""
        self.in_flight.set_function(lambda: float(count()))

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format."""
        return generate_latest(self.registry)
