"""The committed contract JSON Schemas match the models and accept the example contracts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from onex_stream.cli.contract_schema import main
from onex_stream.core.contracts import FileRegistry, load_node_contract
from onex_stream.core.contracts.json_schema import REGENERATE_COMMAND, contract_schema_files

REPO = Path(__file__).resolve().parents[3]
SCHEMA_DIR = REPO / "contracts" / "schema"
EXAMPLES = {
    path: ("runtime_host" if path.parent.name == "runtime" else "node")
    for path in sorted((REPO / "contracts").glob("*/*.yaml"))
}


def _schema(kind: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMA_DIR / f"{kind}.schema.json").read_text())
    return schema


@pytest.mark.parametrize("name", sorted(contract_schema_files()))
def test_the_committed_schema_matches_the_models(name: str) -> None:
    committed = SCHEMA_DIR / name
    expected = contract_schema_files()[name]
    assert committed.is_file(), f"{committed} is missing: run `{REGENERATE_COMMAND}`"
    assert committed.read_text(encoding="utf-8") == expected, (
        f"{committed} has drifted from the contract models: run `{REGENERATE_COMMAND}` "
        "and commit the result"
    )


@pytest.mark.parametrize("kind", ["runtime_host", "node"])
def test_the_schema_is_a_valid_json_schema(kind: str) -> None:
    Draft202012Validator.check_schema(_schema(kind))


@pytest.mark.parametrize("path", list(EXAMPLES), ids=lambda p: p.name)
def test_every_example_points_to_its_schema_and_validates(path: Path) -> None:
    kind = EXAMPLES[path]
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == f"# yaml-language-server: $schema=../schema/{kind}.schema.json"
    errors = list(Draft202012Validator(_schema(kind)).iter_errors(yaml.safe_load(text)))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def test_the_examples_with_the_editor_pointer_still_load() -> None:
    env = {"DATABASE_URL": "postgresql://db/x"}
    for path, kind in EXAMPLES.items():
        if kind == "runtime_host":
            FileRegistry(env=env).load_host(path)
        else:
            load_node_contract(path, env=env)


def test_the_schema_refuses_an_unknown_key() -> None:
    data = {"schema_version": "1.0.0", "runtime": {"name": "x", "colour": "blue"}}
    assert list(Draft202012Validator(_schema("runtime_host")).iter_errors(data))


def test_check_exits_1_on_drift_and_0_once_regenerated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--check", "--out", str(tmp_path)]) == 1
    assert REGENERATE_COMMAND in capsys.readouterr().err
    assert main(["--out", str(tmp_path)]) == 0
    assert main(["--check", "--out", str(tmp_path)]) == 0
    (tmp_path / "node.schema.json").write_text("{}\n")
    assert main(["--check", "--out", str(tmp_path)]) == 1
    assert "node.schema.json is out of date" in capsys.readouterr().err
