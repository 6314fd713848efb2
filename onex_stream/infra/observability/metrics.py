"""HostMetrics: the Prometheus metrics of one runtime host, in a registry of its own."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from importlib.metadata import version

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_latest
from prometheus_client.registry import Collector

from onex_stream.infra.observability.loop_metrics import LoopCounter, LoopHistogram

LATENCY_BUCKETS = (
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
)  # fmt: skip
UNKNOWN = "unknown"
#: The media type of OpenMetrics, served when the scraper's ``Accept`` header asks for it.
OPENMETRICS = "application/openmetrics-text"
OPENMETRICS_CONTENT_TYPE = f"{OPENMETRICS}; version=1.0.0; charset=utf-8"
#: The Prometheus text format (0.0.4), served otherwise.
PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"


class WithoutCreated(Collector):
    """A registry seen without its ``*_created`` samples.

    prometheus_client adds a ``<name>_created`` series (a Unix timestamp) beside every
    counter, histogram and summary child, which doubles the series count and that
    Prometheus stores as an ordinary gauge. ``disable_created_metrics()`` would turn
    them off for the whole process; this view drops them for the host's registry only.
    """

    def __init__(self, registry: CollectorRegistry) -> None:
        self._registry = registry

    def collect(self) -> Iterable[Metric]:
        """The registry's families (built afresh per call), their ``_created`` dropped."""
        for family in self._registry.collect():
            created = f"{family.name}_created"
            family.samples = [s for s in family.samples if s.name != created]
            yield family


class HostMetrics:
    """Every metric the host exports (see the README's operations section).

    Labels only take bounded values: node slugs, handler types and operations the
    host knows (else ``unknown``), error codes, topic names, partition numbers.
    Ids never become labels. The registry also holds the process (``process_*``: CPU,
    RSS, open file descriptors, start time), platform (``python_info``) and garbage
    collector (``python_gc_*``) collectors; no ``*_created`` series are exported.
    """

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        # counted per envelope: plain numbers on the event loop (loop_metrics)
        self.envelopes = LoopCounter(
            "onex_envelopes",
            "Envelopes answered, by node, handler, operation and outcome",
            ["node", "handler_type", "operation", "outcome"],
            r,
        )
        self.handler_latency = LoopHistogram(
            "onex_handler_latency_seconds",
            "Time spent in a handler's execute",
            ["handler_type", "operation"],
            LATENCY_BUCKETS,
            r,
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
        self.replayed_answers = Counter(
            "onex_replayed_answers",
            "Commands answered from the answers table (a replay or a re-sent envelope_id): "
            "the stored answer published again, the handler not called",
            ["topic"],
            registry=r,
        )
        self.remembered_answers = Gauge(
            "onex_remembered_answers",
            "Answers of idempotent commands this worker holds (its partitions, within the "
            "window and the per-partition limit)",
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
        self.ready = Gauge(
            "onex_ready",
            "1 while /health/ready answers 200 (refreshed every metrics.refresh_seconds)",
            registry=r,
        )
        Gauge(
            "onex_build_info", "Version of onex_stream", ["version"], registry=r
        ).labels(version=version("onex_stream")).set(1)  # fmt: skip
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)  # registers nothing where gc.get_stats is missing
        self._exported = WithoutCreated(r)

    def count_envelope(self, node: str, handler_type: str, operation: str, outcome: str) -> None:
        """One answered envelope."""
        self.envelopes.inc((node, handler_type, operation, outcome))

    def observe_latency(self, handler_type: str, operation: str, seconds: float) -> None:
        """One handler ``execute`` duration."""
        self.handler_latency.observe((handler_type, operation), seconds)

    def track_in_flight(self, count: Callable[[], int]) -> None:
        """Report ``count()`` as the in-flight gauge at every scrape."""
        self.in_flight.set_function(lambda: float(count()))

    def exposition(self) -> bytes:
        """The registry in Prometheus' text format (0.0.4), without ``*_created``."""
        return generate_latest(self._exported)

    def openmetrics_exposition(self) -> bytes:
        """The registry in the OpenMetrics 1.0.0 text format, without ``*_created``."""
        text: bytes = openmetrics_latest(self._exported)  # type: ignore[no-untyped-call]
        return text

    def render(self, accept: str) -> tuple[bytes, str]:
        """The exposition a scraper's ``Accept`` header asks for, and its content type:
        OpenMetrics 1.0.0 when it accepts ``application/openmetrics-text`` version 1.x
        (or no version), as Prometheus does, else Prometheus' text format."""
        if wants_openmetrics(accept):
            return self.openmetrics_exposition(), OPENMETRICS_CONTENT_TYPE
        return self.exposition(), PROMETHEUS_TEXT


def wants_openmetrics(accept: str) -> bool:
    """Whether an ``Accept`` header accepts OpenMetrics 1.x (``q`` above 0)."""
    for entry in accept.split(","):
        media, *parameters = (part.strip() for part in entry.split(";"))
        if media.lower() != OPENMETRICS:
            continue
        options = dict(p.split("=", 1) for p in parameters if "=" in p)
        try:
            quality = float(options.get("q", "1"))
        except ValueError:
            continue
        if quality > 0 and options.get("version", "1.0.0").split(".")[0] == "1":
            return True
    return False
