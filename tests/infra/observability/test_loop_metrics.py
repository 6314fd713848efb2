"""LoopCounter and LoopHistogram export what prometheus_client's Counter and Histogram do."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as openmetrics_latest

from onex_stream.infra.observability.loop_metrics import LoopCounter, LoopHistogram
from onex_stream.infra.observability.metrics import LATENCY_BUCKETS, WithoutCreated

LABELS = st.tuples(st.sampled_from(["local", "http"]), st.sampled_from(["a.b", "c.d", "e.f"]))
# bucket bounds themselves, values between and beyond them
VALUES = st.one_of(st.sampled_from(LATENCY_BUCKETS), st.floats(0, 60, allow_nan=False))


def exported(registry: CollectorRegistry) -> tuple[bytes, bytes]:
    """Both formats, without ``_created`` (as the host exports them)."""
    view = WithoutCreated(registry)
    return generate_latest(view), openmetrics_latest(view)


@given(st.lists(st.tuples(LABELS, st.integers(1, 3)), max_size=30))
def test_a_loop_counter_exports_what_a_counter_does(
    updates: list[tuple[tuple[str, str], int]],
) -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    loop = LoopCounter("t_calls", "Calls", ["handler_type", "operation"], ours)
    counter = Counter("t_calls", "Calls", ["handler_type", "operation"], registry=theirs)
    for labels, amount in updates:
        loop.inc(labels, amount)
        counter.labels(*labels).inc(amount)
    assert exported(ours) == exported(theirs)


@given(st.lists(st.tuples(LABELS, VALUES), max_size=40))
def test_a_loop_histogram_exports_what_a_histogram_does(
    observations: list[tuple[tuple[str, str], float]],
) -> None:
    """Same buckets (a value equal to a bound counts in that bound's bucket), count, sum."""
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    names = ["handler_type", "operation"]
    loop = LoopHistogram("t_seconds", "Time", names, LATENCY_BUCKETS, ours)
    histogram = Histogram("t_seconds", "Time", names, buckets=LATENCY_BUCKETS, registry=theirs)
    for labels, value in observations:
        loop.observe(labels, value)
        histogram.labels(*labels).observe(value)
    assert exported(ours) == exported(theirs)
