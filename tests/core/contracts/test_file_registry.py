"""FileRegistry: node contracts from directories and runtime contracts with their nodes."""

from __future__ import annotations

from pathlib import Path

import pytest

from onex_stream.core.contracts import FileRegistry
from onex_stream.core.errors import ContractValidationError

REPO = Path(__file__).resolve().parents[3]
NODE = 'schema_version: "1.0.0"\nname: "{name}"\nnode_type: "COMPUTE"\n'
RUNTIME = """\
schema_version: "1.0.0"
runtime:
  name: "host"
  handlers:
    - type: "http"
  nodes:
    - slug: "node_a"
    - slug: "node_b"
"""


@pytest.fixture
def layout(tmp_path: Path) -> Path:
    (tmp_path / "runtime").mkdir()
    (tmp_path / "nodes").mkdir()
    for name in ("node_a", "node_b"):
        (tmp_path / "nodes" / f"{name}.yaml").write_text(NODE.format(name=name))
    (tmp_path / "runtime" / "host.yaml").write_text(RUNTIME)
    return tmp_path


def test_load_host_resolves_nodes_relative_to_the_contract(layout: Path) -> None:
    host = FileRegistry(env={}).load_host(layout / "runtime" / "host.yaml")
    assert host.contract.runtime.name == "host"
    assert [n.name for n in host.nodes] == ["node_a", "node_b"]


def test_missing_node_contract_is_located_at_its_slug(layout: Path) -> None:
    (layout / "nodes" / "node_b.yaml").unlink()
    with pytest.raises(ContractValidationError) as caught:
        FileRegistry(env={}).load_host(layout / "runtime" / "host.yaml")
    assert caught.value.error == "Node contract for 'node_b' not found"
    assert caught.value.line == 8


def test_node_name_must_match_its_slug(layout: Path) -> None:
    (layout / "nodes" / "node_b.yaml").write_text(NODE.format(name="other"))
    with pytest.raises(ContractValidationError, match="is named 'other', not 'node_b'"):
        FileRegistry(env={}).load_host(layout / "runtime" / "host.yaml")


def test_nodes_using_an_unbound_handler_type_produce_a_warning(layout: Path) -> None:
    (layout / "nodes" / "node_a.yaml").write_text(
        NODE.format(name="node_a") + 'io_operations:\n  - {type: db, operations: ["db.query"]}\n'
    )
    host = FileRegistry(env={}).load_host(layout / "runtime" / "host.yaml")
    assert any("HANDLER_NOT_FOUND" in w for w in host.warnings)


def test_duplicate_node_slugs_fail(layout: Path) -> None:
    text = RUNTIME + '    - slug: "node_a"\n'
    (layout / "runtime" / "host.yaml").write_text(text)
    with pytest.raises(ContractValidationError, match="Duplicate node 'node_a'"):
        FileRegistry(env={}).load_host(layout / "runtime" / "host.yaml")


@pytest.mark.parametrize("path", sorted((REPO / "contracts" / "runtime").glob("*.yaml")), ids=str)
def test_every_example_runtime_contract_loads_with_its_nodes(path: Path) -> None:
    host = FileRegistry(env={}).load_host(path)
    assert len(host.nodes) == len(host.contract.runtime.nodes) >= 1
