"""The contract tools are installed as console scripts and run from the repository root."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=REPO, capture_output=True, text=True, check=False)


def test_the_committed_schemas_are_up_to_date() -> None:
    result = _run(str(BIN / "omnibase-runtime-contract-schema"), "--check")
    assert result.returncode == 0, result.stderr


def test_asyncapi_prints_a_3_0_0_document() -> None:
    contract = "contracts/runtime/orders_host.yaml"
    result = _run(str(BIN / "omnibase-runtime-asyncapi"), contract)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["asyncapi"] == "3.0.0"


def test_contract_diff_of_a_contract_with_itself_is_empty() -> None:
    contract = "contracts/runtime/orders_host.yaml"
    result = _run(str(BIN / "omnibase-runtime-contract-diff"), contract, contract)
    assert result.returncode == 0, result.stderr
    assert "0 change(s), 0 breaking" in result.stdout
