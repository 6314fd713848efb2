"""omnibase-runtime-validate-contract: exit 0 on the examples, 1 with located findings."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from onex_stream.cli.validate_contract import main

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("stage", ["dev", "test"])
def test_the_example_contracts_validate(stage: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--env", stage, str(REPO / "contracts")]) == 0
    assert "0 finding(s)" in capsys.readouterr().out


def test_the_dev_demo_host_fails_in_prod_naming_the_local_handler_line() -> None:
    exe = Path(sys.executable).parent / "omnibase-runtime-validate-contract"
    contract = REPO / "contracts" / "runtime" / "dev_demo_host.yaml"
    line = contract.read_text().splitlines().index('    - type: "local"') + 1
    result = subprocess.run(
        [exe, "--env", "prod", str(contract)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "ONEX003 error" in result.stdout
    assert "which is dev/test only" in result.stdout
    assert f"at line {line}, column 7" in result.stdout


def test_the_environment_defaults_to_onex_env_then_prod(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    contract = str(REPO / "contracts" / "runtime" / "dev_demo_host.yaml")
    monkeypatch.setenv("ONEX_ENV", "test")
    assert main([contract]) == 0
    monkeypatch.delenv("ONEX_ENV")
    assert main([contract]) == 1
    assert "(ONEX_ENV=prod), 1 finding(s)" in capsys.readouterr().out


def test_json_lists_the_findings(capsys: pytest.CaptureFixture[str]) -> None:
    contract = REPO / "contracts" / "runtime" / "dev_demo_host.yaml"
    assert main(["--env", "prod", "--format", "json", str(contract)]) == 1
    (finding,) = json.loads(capsys.readouterr().out)
    assert finding["rule"] == "ONEX003"
    assert finding["severity"] == "error"
    assert finding["file"] == str(contract)
    assert set(finding) == {"rule", "severity", "file", "line", "message", "hint", "action"}


def test_warnings_fail_only_with_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "idle.yaml"
    path.write_text('schema_version: "1.0.0"\nruntime:\n  name: "idle"\n')
    assert main(["--env", "prod", str(path)]) == 0
    assert main(["--env", "prod", "--strict", str(path)]) == 1
    assert "ONEX010 warning" in capsys.readouterr().out


def test_unknown_handler_type_exits_1_naming_file_line_and_valid_types(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        'schema_version: "1.0.0"\nruntime:\n  name: "x"\n  handlers:\n    - type: smtp\n'
    )
    assert main([str(path)]) == 1
    out = capsys.readouterr().out
    assert f"File: {path}" in out
    assert "Error: Unknown handler type 'smtp' at line 5, column 7" in out
    assert "Hint: Valid handler types are: local, http, db, vault, consul or llm" in out


def test_every_finding_of_every_file_is_printed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shutil.copytree(REPO / "contracts", tmp_path / "contracts")
    (tmp_path / "contracts" / "nodes" / "broken.yaml").write_text("name: [\n")
    (tmp_path / "contracts" / "runtime" / "x.yaml").write_text(
        'schema_version: "1.0.0"\nruntime:\n  name: "x"\n  a: 1\n  b: 2\n'
    )
    assert main(["--env", "dev", str(tmp_path / "contracts")]) == 1
    out = capsys.readouterr().out
    assert out.count("ContractValidationError") == 3
    assert "3 finding(s)" in out


def test_the_console_script_is_installed() -> None:
    exe = Path(sys.executable).parent / "omnibase-runtime-validate-contract"
    assert exe.is_file()
    result = subprocess.run(
        [exe, "--env", "dev", str(REPO / "contracts")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
