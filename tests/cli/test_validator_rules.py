"""Each validator rule (ONEX001...): a contract breaking it is found, its fix is not."""

from __future__ import annotations

from pathlib import Path

import pytest

from onex_stream.cli.validate_contract import check_file
from onex_stream.core.contracts.rules import RULES, EnumSeverity
from tests.support.rule_cases import CASES, RuleCase


def rules_of(case: RuleCase, tmp_path: Path, *, bad: bool) -> list[str]:
    path = case.write(tmp_path, bad=bad)
    return [f.rule for f in check_file(path, case.stage, env=case.env, check_env=True)]


@pytest.mark.parametrize("name", CASES)
def test_the_bad_contract_breaks_the_rule_and_the_good_one_keeps_it(
    name: str, tmp_path: Path
) -> None:
    case = CASES[name]
    assert case.rule in rules_of(case, tmp_path, bad=True)
    assert rules_of(case, tmp_path, bad=False) == []


def test_every_rule_has_a_case_and_a_readme_row() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert {case.rule for case in CASES.values()} == set(RULES)
    for rule in RULES:
        assert f"| {rule} |" in readme


def test_findings_are_located_with_hint_and_action(tmp_path: Path) -> None:
    path = CASES["local_in_prod"].write(tmp_path, bad=True)
    (finding,) = check_file(path, "prod", env={})
    assert finding.as_json() == {
        "rule": "ONEX003",
        "severity": "error",
        "file": str(path),
        "line": 9,
        "message": finding.error.error,
        "hint": "ONEX_ENV=prod: the local handler runs in dev and test only",
        "action": "Remove the local handler, or validate and run with --env dev",
    }
    assert "dev/test only" in finding.error.error
    assert check_file(path, "dev", env={}) == []


@pytest.mark.parametrize("name", ["no_handlers", "unset_env_ref"])
def test_some_findings_are_warnings(name: str, tmp_path: Path) -> None:
    path = CASES[name].write(tmp_path, bad=True)
    (finding,) = check_file(path, "prod", env={}, check_env=True)
    assert finding.severity is EnumSeverity.WARNING
