"""/metrics hygiene: process and platform collectors, no ``*_created``, OpenMetrics on request."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)
from prometheus_client.parser import text_string_to_metric_families

from onex_stream.infra.observability.metrics import OPENMETRICS, PROMETHEUS_TEXT, HostMetrics

#: What Prometheus 2.x sends when it scrapes (scrape_protocols left at their default).
PROMETHEUS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)


def busy_metrics() -> HostMetrics:
    """Host metrics with a child of every counter and histogram."""
    metrics = HostMetrics()
    metrics.count_envelope("n", "local", "local.echo", "success")
    metrics.observe_latency("local", "local.echo", 0.002)
    metrics.dead_letters.labels("t", "not_json").inc()
    metrics.handler_retries.labels("http", "success").inc()
    metrics.rate_limit_wait.labels("http").observe(0.01)
    metrics.end_below_committed.labels("g", "t", "0").inc()
    return metrics


def names(text: str) -> set[str]:
    return {s.name for f in text_string_to_metric_families(text) for s in f.samples}


def test_the_host_registry_exports_process_platform_and_gc_metrics() -> None:
    exported = names(HostMetrics().exposition().decode())
    assert {
        "process_resident_memory_bytes",
        "process_cpu_seconds_total",
        "process_open_fds",
        "process_start_time_seconds",
        "python_info",
        "python_gc_collections_total",
    } <= exported


def test_no_created_series_are_exported_in_either_format() -> None:
    metrics = busy_metrics()
    text = metrics.exposition().decode()
    openmetrics = metrics.openmetrics_exposition().decode()
    assert "_created" not in text
    assert "_created" not in openmetrics
    assert "onex_envelopes_total" in text and "onex_handler_latency_seconds_bucket" in text


def test_dropping_created_leaves_other_registries_of_the_process_alone() -> None:
    busy_metrics().exposition()
    other = CollectorRegistry()
    Counter("other_requests", "a counter outside the host", registry=other).inc()
    assert b"other_requests_created" in generate_latest(other)


def test_openmetrics_is_served_when_prometheus_asks_for_it() -> None:
    body, content_type = busy_metrics().render(PROMETHEUS_ACCEPT)
    assert content_type.startswith(f"{OPENMETRICS}; version=1.0.0")
    families = {f.name: f for f in openmetrics_families(body.decode())}  # parses: # EOF
    assert families["onex_envelopes"].type == "counter"
    assert families["onex_handler_latency_seconds"].type == "histogram"
    assert body.endswith(b"# EOF\n")


def test_the_text_format_is_served_without_an_accept_header_or_for_plain_text() -> None:
    metrics = busy_metrics()
    for accept in ("", "text/plain", "text/plain;version=0.0.4", "*/*"):
        body, content_type = metrics.render(accept)
        assert content_type == PROMETHEUS_TEXT, accept
        assert b"# EOF" not in body
        assert "onex_envelopes_total" in names(body.decode())


def test_an_openmetrics_version_before_1_0_0_falls_back_to_text() -> None:
    _, content_type = busy_metrics().render("application/openmetrics-text;version=0.0.1")
    assert content_type == PROMETHEUS_TEXT


def test_the_ready_gauge_starts_at_zero_until_readiness_is_computed() -> None:
    metrics = HostMetrics()
    assert metrics.registry.get_sample_value("onex_ready") == 0


def test_openmetrics_refused_with_q_0_or_a_malformed_q_is_not_served() -> None:
    metrics = busy_metrics()
    for accept in (
        "application/openmetrics-text;version=1.0.0;q=0,text/plain;q=0.5",
        "application/openmetrics-text;q=high",
        "application/openmetrics-text;version=2.0.0",
    ):
        assert metrics.render(accept)[1] == PROMETHEUS_TEXT, accept
    assert metrics.render("Application/OpenMetrics-Text")[1].startswith(OPENMETRICS)
