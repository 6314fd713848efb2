"""The quick ratio check's comparison logic and baseline file, on fixed figures (no timing)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.benchmarks import quick_ratio
from tests.benchmarks.common import Run
from tests.benchmarks.quick_ratio import Verdict, baseline_document, cpu_ratios, load_baseline

WHEN = datetime(2026, 11, 30, tzinfo=UTC)


def results(host_cpu: list[float], bare_cpu: list[float]) -> dict[str, list[Run]]:
    return {
        "host": [Run(rate=1000.0, cpu_us=cpu) for cpu in host_cpu],
        "bare": [Run(rate=800.0, cpu_us=cpu) for cpu in bare_cpu],
    }


def test_the_floor_is_25_percent_below_the_baseline() -> None:
    assert Verdict(ratio=1.0, baseline=1.2).floor == pytest.approx(0.9)


@pytest.mark.parametrize(
    ("ratio", "passed"), [(0.9, True), (0.8999, False), (0.5, False), (1.2, True), (3.0, True)]
)
def test_a_ratio_fails_only_below_the_floor(ratio: float, passed: bool) -> None:
    assert Verdict(ratio=ratio, baseline=1.2).passed is passed


def test_the_verdict_line_names_a_regression() -> None:
    assert Verdict(ratio=0.6, baseline=1.2).line().endswith("REGRESSION")
    assert "-50%" in Verdict(ratio=0.6, baseline=1.2).line()
    assert Verdict(ratio=1.2, baseline=1.2).line().endswith(": ok")


def test_ratios_are_the_bare_agents_cpu_over_the_hosts_round_by_round() -> None:
    figures = results(host_cpu=[100.0, 200.0], bare_cpu=[150.0, 100.0])
    assert cpu_ratios(figures["host"], figures["bare"]) == [1.5, 0.5]


def test_the_baseline_document_holds_the_median_ratio_and_its_figures(tmp_path: Path) -> None:
    figures = results(host_cpu=[100.0, 100.0, 100.0], bare_cpu=[90.0, 130.0, 120.0])
    document = baseline_document(figures, n=500, when=WHEN)
    entry = document["quick_ratio"]
    assert entry["ratio"] == 1.2
    assert entry["per_round"] == [0.9, 1.3, 1.2]
    assert entry["measured"] == "2026-11-30"
    assert (entry["envelopes_per_slice"], entry["rounds"]) == (500, 3)
    assert entry["throughput_ratio_host_over_bare"] == 1.25
    path = tmp_path / "baseline.json"
    path.write_text(json.dumps(document))
    assert load_baseline(path) == 1.2


def test_the_committed_baseline_loads() -> None:
    assert load_baseline(quick_ratio.BASELINE) > 0


@pytest.mark.parametrize(("bare_cpu", "code"), [(120.0, 0), (80.0, 0), (70.0, 1)])
def test_main_exits_1_on_a_regression(
    bare_cpu: float, code: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(baseline_document(results([100.0], [100.0]), 1, WHEN)))
    monkeypatch.setattr(quick_ratio, "measure", lambda n, rounds: results([100.0], [bare_cpu]))
    assert quick_ratio.main(["--baseline", str(baseline)]) == code


def test_update_baseline_rewrites_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps(baseline_document(results([100.0], [300.0]), 1, WHEN)))
    monkeypatch.setattr(quick_ratio, "measure", lambda n, rounds: results([100.0], [70.0]))
    assert quick_ratio.main(["--baseline", str(baseline), "--update-baseline"]) == 0
    assert load_baseline(baseline) == 0.7
