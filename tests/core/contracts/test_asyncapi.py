"""The AsyncAPI document of every example runtime contract validates against AsyncAPI 3.0.0."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft7Validator

from onex_stream.cli.asyncapi import main
from onex_stream.core.contracts import FileRegistry, HostDefinition
from onex_stream.core.contracts.asyncapi import build_asyncapi

REPO = Path(__file__).resolve().parents[3]
SPEC = json.loads((REPO / "tests" / "vendor" / "asyncapi" / "3.0.0.json").read_text())
RUNTIME_CONTRACTS = sorted((REPO / "contracts" / "runtime").glob("*.yaml"))
#: Every ${VAR} of the examples, with a dummy value (the defaults are not relied on).
ENV = {
    "DATABASE_URL": "postgresql://db:5432/onex",
    "DEMO_DATABASE_URL": "postgresql://db:5432/demo",
    "DEMO_HTTP_HOST": "127.0.0.1",
    "KAFKA_BOOTSTRAP_SERVERS": "kafka-1:9092,kafka-2:9092",
    "VAULT_ADDR": "http://vault:8200",
    "CONSUL_ADDR": "http://consul:8500",
}


def _host(path: Path) -> HostDefinition:
    return FileRegistry(env=ENV).load_host(path)


def _errors(document: dict[str, Any]) -> list[str]:
    validator = Draft7Validator(SPEC)
    return [f"{e.json_path}: {e.message}" for e in validator.iter_errors(document)]


def test_the_vendored_spec_is_asyncapi_3_0_0_draft_7() -> None:
    assert SPEC["$schema"].startswith("http://json-schema.org/draft-07/schema")
    assert SPEC["properties"]["asyncapi"]["const"] == "3.0.0"
    assert not _errors({"asyncapi": "3.0.0", "info": {"title": "t", "version": "1"}})
    assert _errors({"asyncapi": "3.0.0", "info": {"title": "t", "version": "1"}, "x": 1})


def test_the_validator_catches_a_bad_operation_and_a_bad_binding() -> None:
    host = _host(REPO / "contracts" / "runtime" / "orders_host.yaml")
    document = build_asyncapi(host.contract, host.nodes)
    document["operations"]["receive.onex.acme.orders.cmd.v1"]["action"] = "consume"
    document["channels"]["onex.acme.orders.cmd.v1"]["bindings"]["kafka"]["partitions"] = "8"
    assert len(_errors(document)) == 2


@pytest.mark.parametrize("path", RUNTIME_CONTRACTS, ids=lambda p: p.name)
def test_the_document_of_every_example_validates(path: Path) -> None:
    host = _host(path)
    assert not _errors(build_asyncapi(host.contract, host.nodes))


def test_channels_operations_and_bindings_follow_the_subscriptions() -> None:
    host = _host(REPO / "contracts" / "runtime" / "orders_host.yaml")
    document = build_asyncapi(host.contract, host.nodes)
    topics = [
        f"onex.acme.{domain}.{signal}.v1"
        for domain in ("orders", "users")
        for signal in ("cmd", "evt", "error")
    ]
    assert sorted(document["channels"]) == sorted(topics)
    assert document["operations"]["receive.onex.acme.users.cmd.v1"]["action"] == "receive"
    assert document["operations"]["send.onex.acme.users.evt.v1"]["action"] == "send"
    assert document["operations"]["send.onex.acme.users.error.v1"]["action"] == "send"
    receive = document["operations"]["receive.onex.acme.orders.cmd.v1"]
    assert receive["bindings"]["kafka"]["groupId"] == {"type": "string", "enum": ["orders-host"]}
    channel = document["channels"]["onex.acme.orders.cmd.v1"]
    assert channel["bindings"]["kafka"]["partitions"] == 8
    assert document["servers"]["kafka"]["host"] == "kafka-1:9092,kafka-2:9092"
    messages = document["components"]["messages"]
    assert messages["command"]["payload"] == {"$ref": "#/components/schemas/ModelOnexEnvelope"}
    assert messages["command"]["bindings"]["kafka"]["key"]["type"] == "string"
    dead_letter = messages["dead_letter"]
    assert dead_letter["payload"]["format"] == "binary"
    names = ["reason", "error-code", "topic", "partition", "offset", "truncated"]
    names += ["original-size", "original-key-size", "sha256"]
    assert set(dead_letter["headers"]["properties"]) == {f"onex-dlq-{name}" for name in names}


def test_declared_node_models_are_payload_schemas() -> None:
    host = _host(REPO / "contracts" / "runtime" / "infra_runtime_host.yaml")
    document = build_asyncapi(host.contract, host.nodes)
    schemas = document["components"]["schemas"]
    assert schemas["order_calculator_compute.input"]["required"] == ["items"]
    assert schemas["user_service_effect.output"]["properties"]["email"]["type"] == "string"
    narrowed = document["components"]["messages"]["user_service_effect.command"]["payload"]
    fields = narrowed["allOf"][1]["properties"]
    assert fields["target_node"] == {"const": "user_service_effect"}
    assert fields["operation"] == {"enum": ["http.get", "db.query", "db.execute"]}
    assert fields["payload"] == {"$ref": "#/components/schemas/user_service_effect.input"}


def test_the_cli_writes_json_and_exits_1_on_a_bad_contract(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "asyncapi.json"
    path = REPO / "contracts" / "runtime" / "minimum_runtime_host.yaml"
    assert main([str(path), "--out", str(out)]) == 0
    assert json.loads(out.read_text())["asyncapi"] == "3.0.0"
    assert main([str(path)]) == 0
    assert json.loads(capsys.readouterr().out)["info"]["title"] == "minimum_runtime_host"
    assert main([str(tmp_path / "missing.yaml")]) == 1
    assert "Contract file not found" in capsys.readouterr().err
