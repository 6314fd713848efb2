"""Kafka's SASL password_ref: env: and file: validate and build; vault: is refused by both."""

from __future__ import annotations

from pathlib import Path
from uuid import uuid4

import pytest

from onex_stream.bootstrap import build_host
from onex_stream.cli.validate_contract import check_file
from onex_stream.core.contracts import FileRegistry
from onex_stream.core.errors import HandlerConfigurationError
from onex_stream.infra.event_bus.kafka.kind import KAFKA
from tests.support.rule_cases import SASL, RuleCase, runtime

PASSWORD = "kafka-file-pass-4e1d"


def kafka_contract(tmp_path: Path, reference: str) -> Path:
    """A kafka runtime contract whose SASL password is ``reference``."""
    return RuleCase("ONEX008", "", runtime(bus=SASL % reference, kind="kafka")).write(
        tmp_path, bad=False
    )


def build(path: Path, env: dict[str, str]) -> object:
    """The host (built, never started: no broker is needed)."""
    overrides = {"broker_url": f"memory://{uuid4()}", "web_enabled": False}
    return build_host(path, env={"ONEX_ENV": "prod", **env}, bus_overrides=overrides, logs="as-is")


def line_of_password_ref(path: Path) -> int:
    """The contract line that holds ``password_ref``."""
    lines = path.read_text().splitlines()
    return next(n for n, text in enumerate(lines, start=1) if "password_ref" in text)


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    """A Kubernetes-style secret file (one trailing newline)."""
    path = tmp_path / "kafka-password"
    path.write_text(PASSWORD + "\n")
    return path


@pytest.mark.parametrize("kind", ["env", "file"])
def test_env_and_file_passwords_validate_and_reach_the_kafka_clients(
    tmp_path: Path, secret_file: Path, kind: str
) -> None:
    reference = "env:KAFKA_PASSWORD" if kind == "env" else f"file:{secret_file}"
    env = {"KAFKA_PASSWORD": PASSWORD}
    path = kafka_contract(tmp_path, reference)
    assert check_file(path, "prod", env=env, check_env=True) == []
    assert build(path, env) is not None
    section = FileRegistry(env).load_host(path).contract.runtime.event_bus.config
    settings = KAFKA.settings(section, env)
    assert settings["admin_auth"]["sasl_plain_password"] == PASSWORD
    assert settings["faust_options"]["broker_credentials"].password == PASSWORD


def test_a_vault_password_is_refused_by_the_validator_saying_why_and_what_to_use(
    tmp_path: Path,
) -> None:
    path = kafka_contract(tmp_path, "vault:secret/kafka#password")
    (finding,) = check_file(path, "prod", env={})
    assert finding.rule == "ONEX008"
    assert finding.error.error == "Kafka's password_ref cannot be a vault: reference"
    assert "before the vault handler starts" in finding.error.hint
    assert "env:<NAME> or file:/<path>" in finding.error.action
    assert finding.error.line == line_of_password_ref(path)


def test_a_vault_password_stops_the_build_with_one_located_line(tmp_path: Path) -> None:
    path = kafka_contract(tmp_path, "vault:secret/kafka#password")
    with pytest.raises(HandlerConfigurationError) as raised:
        build(path, {})
    message = raised.value.message
    assert message.startswith(f"{path}:{line_of_password_ref(path)}:")
    assert "Kafka's password_ref cannot be a vault: reference" in message
    assert "\n" not in message
