"""Start-fault locations: ``file:line`` of a key in the runtime contract as it was loaded."""

from __future__ import annotations

from pathlib import Path

from onex_stream.core.contracts import FileRegistry
from onex_stream.core.contracts.locations import handler_location, key_location
from onex_stream.core.contracts.registry import HostDefinition
from tests.support.contracts import write_contract

RUNTIME = """\
schema_version: "2.0.0"
runtime:
  name: "host"
  event_bus:
    kind: "inmemory"
  handlers:
    - type: "http"
    - type: "db"
      config: {dsn: "postgresql://localhost/app"}
  nodes:
    - slug: "caller"
"""
NODE = 'schema_version: "1.0.0"\nname: "caller"\nnode_type: "EFFECT"\n'


def loaded(tmp_path: Path) -> HostDefinition:
    path = write_contract(tmp_path, RUNTIME, {"caller": NODE})
    return FileRegistry(env={}).load_host(path)


def test_a_key_is_located_at_its_line_and_an_undeclared_one_at_its_nearest_ancestor(
    tmp_path: Path,
) -> None:
    definition = loaded(tmp_path)
    path = definition.path
    assert key_location(definition.document, ("runtime", "event_bus")) == f"{path}:4"
    assert key_location(definition.document, ("runtime", "event_bus", "config")) == f"{path}:4"
    assert key_location(definition.document, ("absent",)) == str(path)


def test_a_handler_is_located_at_its_entry_and_an_unknown_one_at_the_list(
    tmp_path: Path,
) -> None:
    definition = loaded(tmp_path)
    path = definition.path
    assert handler_location(definition.document, "db") == f"{path}:8"
    assert handler_location(definition.document, "vault") == f"{path}:6"


def test_lines_come_from_the_contract_as_loaded_not_from_the_file_edited_since(
    tmp_path: Path,
) -> None:
    definition = loaded(tmp_path)
    definition.path.write_text("# edited after the start\n" * 3 + RUNTIME)
    assert handler_location(definition.document, "db") == f"{definition.path}:8"
