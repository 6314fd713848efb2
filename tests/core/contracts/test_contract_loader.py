"""Contract loading fails fast on every row of 000's fail-fast table, with location."""

from __future__ import annotations

from pathlib import Path

import pytest

from onex_stream.core.contracts import (
    check_runtime_contract,
    load_node_contract,
    load_runtime_contract,
)
from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.errors import ContractValidationError

MINIMAL = """\
schema_version: "1.0.0"
runtime:
  name: "host"
  handlers:
    - type: "http"
  nodes:
    - slug: "node_a"
"""


def write(tmp_path: Path, text: str, name: str = "runtime.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def failure(path: Path, env: dict[str, str] | None = None) -> ContractValidationError:
    with pytest.raises(ContractValidationError) as caught:
        load_runtime_contract(path, env=env or {})
    return caught.value


def test_minimal_contract_loads(tmp_path: Path) -> None:
    contract = load_runtime_contract(write(tmp_path, MINIMAL), env={})
    assert contract.runtime.name == "host"
    assert [h.type for h in contract.runtime.handlers] == [EnumHandlerType.HTTP]
    assert contract.runtime.subscriptions[0].input == "onex.local.host.cmd.v1"
    assert contract.runtime.subscriptions[0].event_topic == "onex.local.host.evt.v1"
    assert contract.runtime.subscriptions[0].dead_letter_topic == "onex.local.host.error.v1"
    assert contract.runtime.consumer_group == "host"


def test_missing_file_fails_with_its_path(tmp_path: Path) -> None:
    error = failure(tmp_path / "absent.yaml")
    assert error.error == "Contract file not found"
    assert error.file == str(tmp_path / "absent.yaml")
    assert error.action


def test_invalid_yaml_fails_with_line_and_column(tmp_path: Path) -> None:
    error = failure(write(tmp_path, 'schema_version: "1.0.0"\nruntime:\n  name: [unclosed\n'))
    assert error.error.startswith("Invalid YAML syntax")
    assert error.line == 4


def test_unknown_field_fails_in_strict_mode_with_valid_fields_listed(tmp_path: Path) -> None:
    error = failure(write(tmp_path, MINIMAL + "  colour: blue\n"))
    assert error.error == "Unknown field 'runtime.colour'"
    assert (error.line, error.column) == (8, 3)
    assert "Valid fields here are: name, version" in error.hint
    assert error.action == "Remove or rename the field"


def test_unknown_field_is_a_warning_in_lenient_mode(tmp_path: Path) -> None:
    report = check_runtime_contract(
        write(tmp_path, MINIMAL + "  colour: blue\n"), env={}, lenient=True
    )
    assert report.findings == []
    assert report.contract is not None
    assert any("Unknown field 'runtime.colour'" in w for w in report.warnings)


def test_unknown_handler_type_names_the_line_and_the_valid_types(tmp_path: Path) -> None:
    error = failure(write(tmp_path, MINIMAL.replace('"http"', '"kafka"')))
    assert error.error == "Unknown handler type 'kafka'"
    assert error.line == 5
    assert "Valid handler types are: local, http, db, vault, consul or llm" in error.hint
    assert "event bus" in error.hint
    assert str(error).startswith("ContractValidationError: Failed to load contract\n  File: ")


def test_missing_required_fields_are_listed(tmp_path: Path) -> None:
    report = check_runtime_contract(
        write(tmp_path, 'schema_version: "1.0.0"\nruntime: {}\n'), env={}
    )
    (finding,) = report.findings
    assert finding.error == "Missing required field 'runtime.name'"
    assert finding.hint == "Required fields here: name"
    assert finding.line == 2


def test_missing_schema_version_is_reported(tmp_path: Path) -> None:
    error = failure(write(tmp_path, MINIMAL.replace('schema_version: "1.0.0"\n', "")))
    assert error.error == "Missing required field 'schema_version'"


def test_unsupported_schema_version_compares_versions(tmp_path: Path) -> None:
    error = failure(write(tmp_path, MINIMAL.replace('"1.0.0"', '"3.1.0"')))
    assert error.error == "Schema version mismatch: contract has 3.1.0"
    assert "1.x (MVP) and 2.x (Beta)" in error.hint
    assert error.line == 1


def test_yaml_anchors_and_aliases_are_allowed(tmp_path: Path) -> None:
    text = """\
schema_version: "2.0.0"
defaults: &retry
  max_retries: 2
runtime:
  name: "host"
  handlers:
    - type: "http"
      config:
        timeout_ms: 100  # the retry budget must fit the rebalance timeout (budgets.py)
        retry_policy: *retry
"""
    report = check_runtime_contract(write(tmp_path, text), env={})
    # 'defaults' is not a contract field: anchors work, strictness still applies
    assert [f.error for f in report.findings] == ["Unknown field 'defaults'"]
    text = text.replace("defaults: &retry\n  max_retries: 2\n", "").replace(
        "retry_policy: *retry", "retry_policy: &retry {max_retries: 2}"
    )
    contract = load_runtime_contract(write(tmp_path, text), env={})
    assert contract.runtime.handlers[0].config.retry_policy is not None


def test_empty_handlers_list_warns_but_loads(tmp_path: Path) -> None:
    report = check_runtime_contract(
        write(tmp_path, 'schema_version: "1.0.0"\nruntime:\n  name: "host"\n  handlers: []\n'),
        env={},
    )
    assert report.findings == [] and report.contract is not None
    assert any("no handlers" in w for w in report.warnings)


def test_duplicate_handler_types_fail_at_the_second_one(tmp_path: Path) -> None:
    error = failure(
        write(tmp_path, MINIMAL.replace('    - type: "http"\n', '    - type: "http"\n' * 2))
    )
    assert error.error == "Duplicate handler 'http'"
    assert error.line == 6


def test_duplicate_yaml_keys_fail(tmp_path: Path) -> None:
    error = failure(write(tmp_path, MINIMAL + '  name: "again"\n'))
    assert error.error == "Duplicate key 'name'"
    assert error.line == 8


@pytest.mark.parametrize(
    ("snippet", "what"),
    [
        ('  tenant_id: "acme"\n', "'tenant_id'"),
        ("  max_concurrent_operations: 4\n", "'max_concurrent_operations'"),
        ("  handlers:\n    - type: vault\n", "handler type 'vault'"),
        ("  handlers:\n    - type: consul\n", "handler type 'consul'"),
        ("  handlers:\n    - type: http\n      config: {retry_policy: {}}\n", "'retry_policy'"),
        ("  handlers:\n    - type: http\n      config: {rate_limit: 5}\n", "'rate_limit'"),
    ],
)
def test_schema_1_rejects_beta_fields_with_an_upgrade_hint(
    tmp_path: Path, snippet: str, what: str
) -> None:
    text = 'schema_version: "1.0.0"\nruntime:\n  name: "host"\n' + snippet
    error = failure(write(tmp_path, text))
    assert error.error == f"{what} is a Beta field, not allowed in schema_version 1.x"
    assert '"2.0.0"' in error.action
    assert error.line is not None and error.line >= 4


def test_schema_2_accepts_beta_fields(tmp_path: Path) -> None:
    text = """\
schema_version: "2.0.0"
runtime:
  name: "host"
  tenant_id: "acme"
  max_concurrent_operations: 8
  shutdown_timeout_seconds: 5
  event_bus:
    kind: kafka
    config:
      bootstrap_servers: "localhost:9092"
      subscriptions:
        - input: "onex.acme.orders.cmd.v1"
        - input: "onex.acme.users.cmd.v1"
          output: "onex.acme.users.evt.v2"
  handlers:
    - type: vault
      config: {address: "http://127.0.0.1:8200", secret_ref: "env:VAULT_TOKEN"}
    - type: http
      config:
        timeout_ms: 500
        rate_limit_per_second: 10
        circuit_breaker: {failure_threshold: 3, reset_timeout_ms: 1000}
"""
    contract = load_runtime_contract(write(tmp_path, text), env={})
    runtime = contract.runtime
    assert runtime.max_concurrent_operations == 8
    assert [s.event_topic for s in runtime.subscriptions] == [
        "onex.acme.orders.evt.v1",
        "onex.acme.users.evt.v2",
    ]
    vault = runtime.handlers[0].config
    assert vault.handler_settings() == {
        "timeout_ms": 30000,
        "address": "http://127.0.0.1:8200",
        "secret_ref": "env:VAULT_TOKEN",
    }
    assert runtime.handlers[1].config.circuit_breaker is not None


def test_invalid_topic_in_contract_is_located(tmp_path: Path) -> None:
    text = (
        MINIMAL
        + '  event_bus:\n    config:\n      topics:\n        input: "onex.internal.x.cmd.v1"\n'
    )
    error = failure(write(tmp_path, text))
    assert "reserved namespace" in error.error
    assert error.line == 11


def test_input_topic_must_be_a_command_topic(tmp_path: Path) -> None:
    text = MINIMAL + '  event_bus:\n    config:\n      topics:\n        input: "onex.a.b.evt.v1"\n'
    assert "must be a 'cmd' topic" in failure(write(tmp_path, text)).error


def test_environment_references_expand_with_defaults(tmp_path: Path) -> None:
    text = MINIMAL.replace(
        '    - type: "http"\n',
        '    - type: "db"\n      config:\n        dsn: "${DATABASE_URL}"\n'
        '        host: "${DB_HOST:-localhost}"\n',
    )
    contract = load_runtime_contract(
        write(tmp_path, text), env={"DATABASE_URL": "postgresql://db/x"}
    )
    assert contract.runtime.handlers[0].config.handler_settings() == {
        "timeout_ms": 30000,
        "dsn": "postgresql://db/x",
        "host": "localhost",
    }


def test_missing_environment_variable_is_named(tmp_path: Path) -> None:
    text = MINIMAL.replace('"http"', '"db"\n      config: {dsn: "${DATABASE_URL}"}')
    error = failure(write(tmp_path, text))
    assert error.error == "Environment variable 'DATABASE_URL' is not set"
    assert error.line == 6
    assert "DATABASE_URL" in error.action


@pytest.mark.parametrize(
    "config",
    [
        '{password: "hunter2"}',
        '{api_key: "abc123"}',
        '{vault_token: "s.xyz"}',
        '{dsn: "postgresql://user:hunter2@db/x"}',
        '{password: "${DB_PASSWORD:-hunter2}"}',
        '{secret_ref: "hunter2"}',
    ],
)
def test_literal_secrets_are_rejected(tmp_path: Path, config: str) -> None:
    text = MINIMAL.replace('"http"', f'"db"\n      config: {config}')
    error = failure(write(tmp_path, text), env={"DB_PASSWORD": "x"})
    assert "secret" in error.error.lower()
    assert "hunter2" not in str(error) and "abc123" not in str(error)


@pytest.mark.parametrize(
    "config",
    [
        '{password: "${DB_PASSWORD}"}',
        '{secret_ref: "vault:secret/db#password"}',
        '{password_ref: "env:DB_PASSWORD"}',
        '{dsn: "postgresql://user:${DB_PASSWORD}@db/x"}',
    ],
)
def test_secret_references_are_accepted(tmp_path: Path, config: str) -> None:
    text = MINIMAL.replace('"http"', f'"db"\n      config: {config}')
    assert load_runtime_contract(write(tmp_path, text), env={"DB_PASSWORD": "pw"})


def test_a_contract_that_is_not_a_mapping_fails(tmp_path: Path) -> None:
    assert (
        failure(write(tmp_path, "- just\n- a list\n")).error == "A contract must be a YAML mapping"
    )


def test_node_contract_operations_must_match_their_handler_type(tmp_path: Path) -> None:
    text = """\
schema_version: "1.0.0"
name: "node_a"
node_type: "EFFECT"
io_operations:
  - type: "http"
    operations: ["db.query"]
"""
    with pytest.raises(ContractValidationError) as caught:
        load_node_contract(write(tmp_path, text, "node_a.yaml"), env={})
    assert "does not belong to handler type 'http'" in caught.value.error
    assert caught.value.line == 5


def test_node_contract_rejects_an_unknown_node_type(tmp_path: Path) -> None:
    text = 'schema_version: "1.0.0"\nname: "node_a"\nnode_type: "WIDGET"\n'
    with pytest.raises(ContractValidationError) as caught:
        load_node_contract(write(tmp_path, text, "node_a.yaml"), env={})
    assert caught.value.error == "Unknown value for 'node_type' 'WIDGET'"
    assert "EFFECT" in caught.value.hint


def test_an_envelope_limit_that_leaves_no_room_for_a_dead_letter_is_refused(
    tmp_path: Path,
) -> None:
    text = MINIMAL + "  event_bus:\n    config:\n      max_envelope_bytes: 1048576\n"
    error = failure(write(tmp_path, text))
    assert "leaves no room for a dead letter within max_record_bytes (1000000)" in error.error
    assert "keep it at most 991808" in error.error
    assert error.line is not None and error.line >= 8


def test_an_envelope_limit_within_the_record_limit_loads(tmp_path: Path) -> None:
    text = MINIMAL + (
        "  event_bus:\n    config:\n      max_envelope_bytes: 1048576\n"
        "      max_record_bytes: 1056768\n"
    )
    config = load_runtime_contract(write(tmp_path, text), env={}).runtime.event_bus.config
    assert (config.max_envelope_bytes, config.max_record_bytes) == (1048576, 1056768)


def test_a_metrics_port_other_than_the_health_port_is_refused(tmp_path: Path) -> None:
    text = MINIMAL.replace("1.0.0", "2.0.0") + "  health: {port: 8080}\n  metrics: {port: 9090}\n"
    error = failure(write(tmp_path, text))
    assert "metrics.port (9090) differs from health.port (8080)" in error.error


def test_a_metrics_port_equal_to_the_health_port_loads(tmp_path: Path) -> None:
    text = MINIMAL.replace("1.0.0", "2.0.0") + "  health: {port: 8080}\n  metrics: {port: 8080}\n"
    assert load_runtime_contract(write(tmp_path, text), env={}).runtime.metrics.port == 8080
