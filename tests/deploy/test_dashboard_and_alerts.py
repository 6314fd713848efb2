"""The Grafana dashboard and the alert rules only use metrics the host exports."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from onex_stream.infra.observability.metrics import HostMetrics

REPO = Path(__file__).resolve().parents[2]
DASHBOARD = REPO / "docker" / "grafana" / "onex-runtime-host.json"
ALERTS = REPO / "docker" / "prometheus" / "alerts.yml"
METRIC = re.compile(r"\b(onex_[a-z_]+)\b")


def exported_names() -> set[str]:
    """Every sample name the host exposes (counters with _total, histograms with _bucket...)."""
    metrics = HostMetrics()
    metrics.envelopes.labels("n", "local", "local.echo", "success").inc()
    metrics.handler_latency.labels("local", "local.echo").observe(0.001)
    metrics.dead_letters.labels("t", "not_json").inc()
    for gauge in (metrics.consumer_lag, metrics.committed_offset, metrics.log_end_offset):
        gauge.labels("g", "t", "0").set(1)
    metrics.handler_up.labels("local").set(1)
    return {s.name for family in metrics.registry.collect() for s in family.samples}


def dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


def alert_rules() -> list[dict]:
    return [
        rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]
    ]


def test_every_dashboard_query_names_an_exported_metric() -> None:
    names = exported_names()
    queries = dashboard_queries()
    assert len(queries) >= 8
    for query in queries:
        used = set(METRIC.findall(query))
        assert used, query
        assert used <= names, f"{query} uses {used - names}"


def test_the_dashboard_has_the_panels_operators_need() -> None:
    titles = " | ".join(p["title"] for p in json.loads(DASHBOARD.read_text())["panels"])
    for needed in (
        "Consumer lag",
        "Envelopes/s by outcome",
        "latency p50 / p99",
        "Dead letters",
        "in flight",
    ):
        assert needed in titles


def test_alert_rules_parse_and_use_exported_metrics() -> None:
    names = exported_names()
    rules = alert_rules()
    assert {r["alert"] for r in rules} >= {
        "OnexConsumerLagGrowing",
        "OnexHighErrorRatio",
        "OnexHandlerDown",
        "OnexNoCommits",
    }
    for rule in rules:
        assert set(METRIC.findall(rule["expr"])) <= names, rule["alert"]
        assert rule["annotations"]["summary"]


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed (CI has it)")
def test_promtool_accepts_the_alert_rules() -> None:
    result = subprocess.run(
        ["promtool", "check", "rules", str(ALERTS)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 5 rules found" in result.stdout


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed (CI has it)")
def test_alerts_fire_as_their_unit_tests_expect() -> None:
    result = subprocess.run(
        ["promtool", "test", "rules", "alerts_test.yml"],
        cwd=ALERTS.parent,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
