"""Validation is the start minus connecting: accepted contracts build, refusals are findings."""

from __future__ import annotations

import re
from pathlib import Path
from uuid import uuid4

import pytest
from pydantic import ValidationError

from onex_stream.bootstrap import build_host
from onex_stream.cli.validate_contract import check_file
from onex_stream.core.contracts.rules import EnumSeverity
from onex_stream.core.errors import RuntimeHostError
from tests.support.rule_cases import CASES

REPO = Path(__file__).resolve().parents[2]
RUNTIME_CONTRACTS = sorted((REPO / "contracts" / "runtime").glob("*.yaml"))
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)|\benv:([A-Za-z_][A-Za-z0-9_]*)")


def bus_overrides() -> dict[str, object]:
    return {"broker_url": f"memory://{uuid4()}", "web_enabled": False}


def dummy_env(path: Path, stage: str) -> dict[str, str]:
    names = [name for pair in _VARIABLE.findall(path.read_text()) for name in pair if name]
    return {**dict.fromkeys(names, "dummy"), "ONEX_ENV": stage}


@pytest.mark.parametrize("stage", ["test", "prod"])
@pytest.mark.parametrize("path", RUNTIME_CONTRACTS, ids=lambda p: p.name)
def test_every_contract_the_validator_accepts_builds(path: Path, stage: str) -> None:
    env = dummy_env(path, stage)
    findings = check_file(path, stage, env=env, check_env=True)
    assert [f for f in findings if f.severity is EnumSeverity.WARNING] == []
    errors = [f for f in findings if f.severity is EnumSeverity.ERROR]
    if errors:
        assert stage == "prod", [f.error.message for f in errors]
        with pytest.raises(RuntimeHostError):  # refused by the start too
            build_host(path, env=env, bus_overrides=bus_overrides(), logs="as-is")
        return
    host = build_host(path, env=env, bus_overrides=bus_overrides(), logs="as-is")
    assert host is not None  # kafka contracts are built, not started


@pytest.mark.parametrize("name", [n for n, case in CASES.items() if case.starts_refused])
def test_every_start_refusal_is_a_validator_finding(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    path = case.write(tmp_path, bad=True)
    env = {**case.env, "ONEX_ENV": case.stage}
    with pytest.raises((RuntimeHostError, ValidationError)):
        build_host(path, env=env, bus_overrides=bus_overrides(), logs="as-is")
    assert case.rule in [f.rule for f in check_file(path, case.stage, env=env, check_env=True)]
    good = case.write(tmp_path, bad=False)
    build_host(good, env=env, bus_overrides=bus_overrides(), logs="as-is")
    assert check_file(good, case.stage, env=env, check_env=True) == []


def test_an_unknown_onex_env_is_refused_by_both(monkeypatch: pytest.MonkeyPatch) -> None:
    from onex_stream.cli.validate_contract import main  # noqa: PLC0415

    monkeypatch.setenv("ONEX_ENV", "staging")
    with pytest.raises(SystemExit) as exited:
        main([str(REPO / "contracts")])
    assert exited.value.code == 2
    with pytest.raises(RuntimeHostError, match="ONEX_ENV='staging'"):
        build_host(RUNTIME_CONTRACTS[0], env={"ONEX_ENV": "staging"})
