"""The Grafana dashboard and the alert rules: exported metrics only, runbooks, promtool tests."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from onex_stream.infra.handlers.policies import CircuitState
from onex_stream.infra.observability.metrics import HostMetrics

REPO = Path(__file__).resolve().parents[2]
DASHBOARD = REPO / "docker" / "grafana" / "onex-runtime-host.json"
ALERTS = REPO / "docker" / "prometheus" / "alerts.yml"
ALERT_TESTS = REPO / "docker" / "prometheus" / "alerts_test.yml"
OPERATIONS = REPO / "docs" / "operations.md"
METRIC = re.compile(r"\b((?:onex|process|python)_[a-z_]+)\b")
NEEDED_ALERTS = {
    "OnexTargetDown",
    "OnexTargetAbsent",
    "OnexNotReady",
    "OnexConsumerLagGrowing",
    "OnexNoCommits",
    "OnexCircuitBreakerOpen",
    "OnexHighErrorRatio",
    "OnexHandlerDown",
}
promtool = pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool not installed")


def exported_names() -> set[str]:
    """Every sample name the host exposes (counters with _total, histograms with _bucket...)."""
    metrics = HostMetrics()
    metrics.count_envelope("n", "local", "local.echo", "success")
    metrics.observe_latency("local", "local.echo", 0.001)
    metrics.dead_letters.labels("t", "not_json").inc()
    for gauge in (metrics.consumer_lag, metrics.committed_offset, metrics.log_end_offset):
        gauge.labels("g", "t", "0").set(1)
    metrics.handler_up.labels("local").set(1)
    metrics.circuit_state.labels("http").set(0)
    return {s.name for family in metrics.registry.collect() for s in family.samples}


def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def dashboard_queries() -> list[str]:
    return [target["expr"] for panel in dashboard()["panels"] for target in panel["targets"]]


def alert_rules() -> list[dict[str, Any]]:
    return [
        rule for group in yaml.safe_load(ALERTS.read_text())["groups"] for rule in group["rules"]
    ]


def github_anchors(markdown: str) -> set[str]:
    """The anchors GitHub gives the headings of ``markdown``."""
    anchors = set()
    for line in markdown.splitlines():
        heading = re.match(r"^#{1,6}\s+(.*)$", line)
        if heading:
            text = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower())
            anchors.add(text.replace(" ", "-"))
    return anchors


def test_every_dashboard_query_names_an_exported_metric() -> None:
    names = exported_names()
    queries = dashboard_queries()
    assert len(queries) >= 12
    for query in queries:
        used = set(METRIC.findall(query))
        assert used, query
        assert used <= names, f"{query} uses {used - names}"


def test_the_dashboard_has_the_panels_operators_need() -> None:
    titles = " | ".join(p["title"] for p in dashboard()["panels"])
    for needed in (
        "Consumer lag",
        "Envelopes/s by outcome",
        "latency p50 / p99",
        "Dead letters",
        "in flight",
        "Ready workers",
        "Circuit breaker",
        "memory",
    ):
        assert needed in titles


def test_the_dashboard_filters_lag_by_group_and_topic_variables() -> None:
    variables = {v["name"]: v for v in dashboard()["templating"]["list"]}
    assert "label_values(onex_consumer_lag, group)" in variables["group"]["definition"]
    assert "$group" in variables["topic"]["definition"]  # topics of the chosen groups
    for name in ("group", "topic"):
        assert variables[name]["type"] == "query" and variables[name]["includeAll"]
    lag_queries = [q for q in dashboard_queries() if "onex_consumer_lag" in q]
    assert lag_queries
    for query in lag_queries:
        assert 'group=~"$group"' in query and 'topic=~"$topic"' in query, query


def test_alert_rules_parse_and_use_exported_metrics() -> None:
    names = exported_names()
    rules = alert_rules()
    assert {r["alert"] for r in rules} >= NEEDED_ALERTS
    for rule in rules:
        assert set(METRIC.findall(rule["expr"])) <= names, rule["alert"]
        assert rule["annotations"]["summary"]
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}


def test_the_breaker_alert_fires_on_the_open_state_value() -> None:
    rule = next(r for r in alert_rules() if r["alert"] == "OnexCircuitBreakerOpen")
    assert f"onex_handler_circuit_state) == {int(CircuitState.OPEN)}" in rule["expr"]


def test_the_target_alerts_catch_a_down_and_a_vanished_target() -> None:
    exprs = {r["alert"]: r["expr"] for r in alert_rules()}
    assert exprs["OnexTargetDown"] == 'up{job="onex"} == 0'
    assert exprs["OnexTargetAbsent"] == 'absent(up{job="onex"})'
    scrape = yaml.safe_load((ALERTS.parent / "prometheus.yml").read_text())
    assert [job["job_name"] for job in scrape["scrape_configs"]] == ["onex"]


def test_every_alert_has_a_runbook_section_in_operations_md() -> None:
    anchors = github_anchors(OPERATIONS.read_text())
    for rule in alert_rules():
        url = rule["annotations"]["runbook_url"]
        path, _, anchor = url.partition("#")
        assert path == "docs/operations.md", rule["alert"]
        assert anchor == rule["alert"].lower() and anchor in anchors, rule["alert"]


def test_every_alert_fires_in_a_promtool_unit_test() -> None:
    fired = {
        case["alertname"]
        for test in yaml.safe_load(ALERT_TESTS.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert fired == {r["alert"] for r in alert_rules()}


@promtool
def test_promtool_accepts_the_alert_rules() -> None:
    result = subprocess.run(
        ["promtool", "check", "rules", str(ALERTS)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in result.stdout


@promtool
def test_alerts_fire_as_their_unit_tests_expect() -> None:
    result = subprocess.run(
        ["promtool", "test", "rules", ALERT_TESTS.name],
        cwd=ALERTS.parent,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
