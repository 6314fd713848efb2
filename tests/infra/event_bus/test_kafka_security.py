"""Kafka credentials come from references; the secret never appears in an error."""

from __future__ import annotations

import faust
import pytest

from onex_stream.core.contracts import ModelKafkaSecurity
from onex_stream.core.errors import SecretResolutionError
from onex_stream.infra.event_bus.kafka.security import (
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


@pytest.mark.parametrize(
    ("reference", "env", "message"),
    [
        ("env:KAFKA_PASSWORD", {}, r"KAFKA_PASSWORD \(from env:KAFKA_PASSWORD\) is not set"),
        ("vault:secret/kafka#password", {}, "env:NAME references only"),
    ],
)
def test_unresolvable_references_fail_naming_the_reference(
    reference: str, env: dict[str, str], message: str
) -> None:
    with pytest.raises(SecretResolutionError, match=message):
        resolve_password(reference, env)


def test_sasl_without_a_password_reference_is_refused_by_the_contract() -> None:
    with pytest.raises(ValueError, match="SASL needs"):
        ModelKafkaSecurity(protocol="SASL_SSL", sasl_mechanism="PLAIN", username="onex")
