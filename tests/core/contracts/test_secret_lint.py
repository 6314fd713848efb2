"""Contract lint on the shared rules: secret-looking keys (SECRET_NAME) and references."""

from __future__ import annotations

import pytest

from onex_stream.core.contracts.lint import lint_secrets
from onex_stream.core.contracts.yaml_source import parse_yaml


def findings(key: str, value: str) -> list[str]:
    document = parse_yaml(f"runtime:\n  config:\n    {key}: {value!r}\n", "contract.yaml")
    return [finding.error for finding in lint_secrets(document)]


@pytest.mark.parametrize(
    "key",
    [
        # the keys lint refused literals for before the rule moved
        "password",
        "passwd",
        "secret",
        "token",
        "api_key",
        "apikey",
        "private_key",
        "credential",
        "credentials",
        "vault_token",
        "DB_PASSWORD",
        # now also: any key whose last word is secret-looking
        "x-api-key",
        "session",
        "basic_auth",
        "cookie",
        "clientSecret",
    ],
)
def test_literal_values_of_secret_looking_keys_are_refused(key: str) -> None:
    assert findings(key, "hunter2") == [f"Literal secret in 'runtime.config.{key}'"]
    assert findings(key, "${DB_PASSWORD}") == []


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("ssl_keyfile", "/etc/kafka/client.key"),  # a file holding a key, not a key
        ("session_timeout_ms", "${KAFKA_SESSION_TIMEOUT:-10000}"),
        ("token_url", "https://auth.example.com/token"),
        ("auth_mode", "scram"),
        ("username", "onex"),
        ("dsn", "postgresql://user@db/x"),
        ("dsn", "postgresql://user:${DB_PASSWORD}@db/x"),
    ],
)
def test_values_that_only_mention_a_secret_are_not_refused(key: str, value: str) -> None:
    assert findings(key, value) == []


def test_a_literal_password_in_a_url_is_refused_whatever_the_key() -> None:
    assert findings("dsn", "postgresql://user:hunter2@db/x") == [
        "Literal secret in 'runtime.config.dsn'"
    ]


@pytest.mark.parametrize(
    "ref", ["env:DB_PASSWORD", "file:/run/secrets/db-password", "vault:secret/db#password"]
)
def test_every_reference_form_of_the_shared_parser_is_accepted(ref: str) -> None:
    assert findings("password_ref", ref) == []
    assert findings("secret_ref", ref) == []


@pytest.mark.parametrize("ref", ["hunter2", "env:1BAD", "file:relative", "vault:no-key"])
def test_malformed_references_are_refused_showing_the_forms(ref: str) -> None:
    document = parse_yaml(f"config:\n  password_ref: {ref!r}\n", "contract.yaml")
    (finding,) = lint_secrets(document)
    assert finding.error == "Malformed secret reference in 'password_ref'"
    assert "file:/" in finding.hint and ref not in str(finding)
