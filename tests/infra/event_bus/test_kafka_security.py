"""Kafka credentials come from references; the secret never appears in an error."""

from __future__ import annotations

from pathlib import Path

import faust
import pytest

from onex_stream.core.contracts import ModelKafkaSecurity
from onex_stream.core.errors import SecretResolutionError
from onex_stream.infra.event_bus.kafka.security import (
    KAFKA_VAULT_REFUSED,
    aiokafka_auth,
    faust_credentials,
    resolve_password,
)

SASL = ModelKafkaSecurity(
    protocol="SASL_PLAINTEXT", sasl_mechanism="SCRAM-SHA-512", username="onex",
    password_ref="env:KAFKA_PASSWORD",
)  # fmt: skip


def test_plaintext_needs_no_credentials() -> None:
    assert faust_credentials(ModelKafkaSecurity(), {}) is None
    assert aiokafka_auth(ModelKafkaSecurity(), {}) == {
        "security_protocol": "PLAINTEXT",
        "ssl_context": None,
    }


def test_sasl_credentials_read_the_password_from_the_environment() -> None:
    credentials = faust_credentials(SASL, {"KAFKA_PASSWORD": "s3cret"})
    assert isinstance(credentials, faust.SASLCredentials)
    assert (credentials.username, credentials.password) == ("onex", "s3cret")
    auth = aiokafka_auth(SASL, {"KAFKA_PASSWORD": "s3cret"})
    assert auth["sasl_plain_password"] == "s3cret"
    assert auth["sasl_mechanism"] == "SCRAM-SHA-512"


def test_sasl_credentials_read_the_password_from_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "kafka-password"
    secret.write_text("s3cret-from-a-volume\n")
    security = SASL.model_copy(update={"password_ref": f"file:{secret}"})
    credentials = faust_credentials(security, {})
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.password == "s3cret-from-a-volume"
    assert aiokafka_auth(security, {})["sasl_plain_password"] == "s3cret-from-a-volume"


@pytest.mark.parametrize(
    ("reference", "env", "message"),
    [
        ("env:KAFKA_PASSWORD", {}, r"KAFKA_PASSWORD \(from env:KAFKA_PASSWORD\) is not set"),
        ("file:/nonexistent/kafka-password", {}, r"cannot read /nonexistent/kafka-password"),
    ],
)
def test_unresolvable_references_fail_naming_the_key_and_the_reference(
    reference: str, env: dict[str, str], message: str
) -> None:
    with pytest.raises(SecretResolutionError, match=message) as raised:
        resolve_password(reference, env)
    assert raised.value.message.startswith("event_bus.config.security.password_ref: ")
    assert raised.value.details["reference"] == reference


def test_a_vault_reference_is_refused_saying_why_and_what_to_use_instead() -> None:
    security = SASL.model_copy(update={"password_ref": "vault:secret/kafka#password"})
    with pytest.raises(SecretResolutionError) as raised:
        aiokafka_auth(security, {})
    message = raised.value.message
    assert message.startswith(
        "event_bus.config.security.password_ref: vault:secret/kafka#password: "
    )
    assert message.endswith(KAFKA_VAULT_REFUSED)
    assert "before the vault handler starts" in message
    assert "use env:<NAME> or file:/<path>" in message


def test_sasl_without_a_password_reference_is_refused_by_the_contract() -> None:
    with pytest.raises(ValueError, match="SASL needs"):
        ModelKafkaSecurity(protocol="SASL_SSL", sasl_mechanism="PLAIN", username="onex")
