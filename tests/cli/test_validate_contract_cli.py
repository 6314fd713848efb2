"""omnibase-runtime-validate-contract: exit 0 on the examples, 1 with located findings."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from onex_stream.cli.validate_contract import main

REPO = Path(__file__).resolve().parents[2]


def test_the_example_contracts_validate(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(REPO / "contracts")]) == 0
    assert "0 finding(s)" in capsys.readouterr().out


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
    assert main([str(tmp_path / "contracts")]) == 1
    out = capsys.readouterr().out
    assert out.count("ContractValidationError") == 3
    assert "3 finding(s)" in out


def test_the_console_script_is_installed() -> None:
    exe = Path(sys.executable).parent / "omnibase-runtime-validate-contract"
    assert exe.is_file()
    result = subprocess.run(
        [exe, str(REPO / "contracts")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
