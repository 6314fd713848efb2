"""Breaking-change diff of contracts: every kind, and the CLI's exit codes and JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from onex_stream.cli.contract_diff import main
from onex_stream.core.contracts import ModelNodeContract, ModelRuntimeHostContract
from onex_stream.core.contracts.diff import EnumChangeKind, diff_hosts, diff_nodes, is_breaking
from tests.support.contracts import write_contract

K = EnumChangeKind
NODE: dict[str, Any] = {
    "schema_version": "1.0.0",
    "name": "users",
    "node_type": "EFFECT",
    "io_operations": [{"type": "http", "operations": ["http.get", "http.post"]}],
    "input_model": {"name": "In", "fields": [{"name": "id", "type": "string", "required": True}]},
    "output_model": {"name": "Out", "fields": [{"name": "n", "type": "int"}]},
}


def node(**changes: Any) -> ModelNodeContract:
    return ModelNodeContract.model_validate({**NODE, **changes})


def model(*fields: tuple[str, str, bool]) -> dict[str, Any]:
    return {"name": "M", "fields": [{"name": n, "type": t, "required": r} for n, t, r in fields]}


def host(subscriptions: list[dict[str, str]], handlers: tuple[str, ...] = ("http",)) -> Any:
    return ModelRuntimeHostContract.model_validate(
        {
            "schema_version": "2.0.0",
            "runtime": {
                "name": "h",
                "event_bus": {"config": {"subscriptions": subscriptions}},
                "handlers": [{"type": t} for t in handlers],
            },
        }
    )


ORDERS = {"input": "onex.acme.orders.cmd.v1"}
USERS = {"input": "onex.acme.users.cmd.v1"}
ID = ("id", "string", True)

NODE_CASES = [
    ("operation removed", {"io_operations": [{"type": "http", "operations": ["http.get"]}]},
     K.OPERATION_REMOVED, "io_operations.http", True),
    ("operation added", {"io_operations": [
        {"type": "http", "operations": ["http.get", "http.post"]},
        {"type": "db", "operations": ["db.query"]}]},
     K.OPERATION_ADDED, "io_operations.db", False),
    ("required input field added", {"input_model": model(ID, ("tenant", "string", True))},
     K.REQUIRED_FIELD_ADDED, "input_model.fields.tenant", True),
    ("input field made required", {"input_model": model(ID, ("x", "int", True))},
     K.REQUIRED_FIELD_ADDED, "input_model.fields.x", True),
    ("optional input field added", {"input_model": model(ID, ("note", "string", False))},
     K.FIELD_ADDED, "input_model.fields.note", False),
    ("input type narrowed", {"input_model": model(("id", "uuid", True))},
     K.TYPE_NARROWED, "input_model.fields.id", True),
    ("input type widened", {"input_model": model(("id", "string | None", True))},
     K.TYPE_WIDENED, "input_model.fields.id", False),
    ("input type changed", {"input_model": model(("id", "int", True))},
     K.TYPE_CHANGED, "input_model.fields.id", True),
    ("output type widened", {"output_model": model(("n", "float", False))},
     K.TYPE_WIDENED, "output_model.fields.n", True),
    ("output field added", {"output_model": {"name": "Out", "fields": [
        {"name": "n", "type": "int"}, {"name": "m", "type": "list[int]"}]}},
     K.FIELD_ADDED, "output_model.fields.m", False),
    ("output field removed", {"output_model": model()},
     K.FIELD_REMOVED, "output_model.fields.n", True),
    ("input field removed", {"input_model": None},
     K.FIELD_REMOVED, "input_model.fields.id", False),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "new", "kind", "location", "breaking"), NODE_CASES, ids=[c[0] for c in NODE_CASES]
)
def test_node_changes(
    case: str, new: dict[str, Any], kind: K, location: str, breaking: bool
) -> None:
    changes = diff_nodes(node(), node(**new))
    assert [(c.kind, c.location, c.breaking) for c in changes] == [(kind, location, breaking)]
    assert is_breaking(changes) is breaking


def test_equivalent_type_spellings_are_no_change() -> None:
    spelled = node(
        input_model=model(("id", "str", True)), output_model=model(("n", "integer", False))
    )
    assert diff_nodes(node(), spelled) == []


HOST_CASES = [
    ("subscription removed", [ORDERS, USERS], [ORDERS],
     [(K.TOPIC_REMOVED, "command topic 'onex.acme.users.cmd.v1' removed"),
      (K.TOPIC_REMOVED, "event topic 'onex.acme.users.evt.v1' removed"),
      (K.TOPIC_REMOVED, "dead-letter topic 'onex.acme.users.error.v1' removed")]),
    ("output moved", [ORDERS], [{**ORDERS, "output": "onex.acme.billing.evt.v1"}],
     [(K.TOPIC_REMOVED, "event topic 'onex.acme.orders.evt.v1' removed"),
      (K.TOPIC_ADDED, "event topic 'onex.acme.billing.evt.v1' added")]),
    ("dead letter moved", [ORDERS], [{**ORDERS, "dead_letter": "onex.acme.dlq.error.v1"}],
     [(K.TOPIC_REMOVED, "dead-letter topic 'onex.acme.orders.error.v1' removed"),
      (K.TOPIC_ADDED, "dead-letter topic 'onex.acme.dlq.error.v1' added")]),
    ("subscription added", [ORDERS], [ORDERS, USERS],
     [(K.TOPIC_ADDED, "command topic 'onex.acme.users.cmd.v1' added"),
      (K.TOPIC_ADDED, "event topic 'onex.acme.users.evt.v1' added"),
      (K.TOPIC_ADDED, "dead-letter topic 'onex.acme.users.error.v1' added")]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "old", "new", "expected"), HOST_CASES, ids=[c[0] for c in HOST_CASES]
)
def test_topic_changes(
    case: str, old: list[dict[str, str]], new: list[dict[str, str]], expected: list[Any]
) -> None:
    changes = diff_hosts(host(old), [], host(new), [])
    assert [(c.kind, c.detail) for c in changes] == expected
    assert all(c.breaking == (c.kind is K.TOPIC_REMOVED) for c in changes)


def test_nodes_and_handlers_removed_break_and_added_do_not() -> None:
    other = node(name="orders")
    changes = diff_hosts(host([ORDERS], ("http", "db")), [node()], host([ORDERS]), [other])
    assert [(c.kind, c.location, c.breaking) for c in changes] == [
        (K.HANDLER_REMOVED, "runtime.handlers", True),
        (K.NODE_REMOVED, "runtime.nodes", True),
        (K.NODE_ADDED, "runtime.nodes", False),
    ]


def test_changes_inside_a_kept_node_are_located_under_it() -> None:
    new = node(io_operations=[{"type": "http", "operations": ["http.get"]}])
    (change,) = diff_hosts(host([ORDERS]), [node()], host([ORDERS]), [new])
    assert (change.kind, change.location) == (K.OPERATION_REMOVED, "nodes.users.io_operations.http")


NODE_YAML = """\
schema_version: "1.0.0"
name: "users"
node_type: "EFFECT"
io_operations:
  - {{type: http, operations: [{operations}]}}
"""
HOST_YAML = """\
schema_version: "1.0.0"
runtime:
  name: "h"
  handlers: [{{type: http}}]
  nodes: [{nodes}]
"""


def _host_file(root: Path, nodes: dict[str, str]) -> Path:
    slugs = ", ".join(f"{{slug: {slug}}}" for slug in nodes)
    return write_contract(root, HOST_YAML.format(nodes=slugs), nodes)


def test_cli_exit_codes_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = _host_file(tmp_path / "old", {"users": NODE_YAML.format(operations="http.get")})
    new = _host_file(
        tmp_path / "new", {"users": NODE_YAML.format(operations="http.get, http.post")}
    )
    assert main([str(old), str(new)]) == 0
    assert "1 change(s), 0 breaking" in capsys.readouterr().out
    assert main([str(new), str(old), "--format", "json"]) == 1
    assert json.loads(capsys.readouterr().out) == {
        "breaking": True,
        "changes": [
            {
                "kind": "operation_removed",
                "location": "nodes.users.io_operations.http",
                "breaking": True,
                "detail": "operation 'http.post' removed",
            }
        ],
    }
    node_file = tmp_path / "new" / "nodes" / "users.yaml"
    assert main([str(node_file), str(node_file)]) == 0
    assert "0 change(s), 0 breaking" in capsys.readouterr().out
    assert main([str(old), str(node_file)]) == 2
    assert "cannot compare a runtime host contract" in capsys.readouterr().err
    assert main([str(old), str(tmp_path / "missing.yaml")]) == 2
    assert "Contract file not found" in capsys.readouterr().err
