"""One parser for secret references: env:NAME, file:/path, vault:path#key."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError, field_validator

from onex_stream.core.secret_refs import (
    SecretRef,
    check_secret_ref,
    is_secret_ref,
    parse_secret_ref,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("env:PGPASS", SecretRef("env", name="PGPASS")),
        ("env:_private_1", SecretRef("env", name="_private_1")),
        ("file:/run/secrets/db-password", SecretRef("file", path="/run/secrets/db-password")),
        ("file:/etc/kafka/password.txt", SecretRef("file", path="/etc/kafka/password.txt")),
        ("vault:secret/db#password", SecretRef("vault", path="secret/db", key="password")),
        ("vault:kv/data/app/x#api.key", SecretRef("vault", path="kv/data/app/x", key="api.key")),
    ],
)
def test_well_formed_references_parse_into_their_parts(text: str, expected: SecretRef) -> None:
    ref = parse_secret_ref(text)
    assert ref == expected
    assert str(ref) == text
    assert is_secret_ref(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "hunter2",
        "PGPASS",
        "env:",
        "env:1PGPASS",
        "env:PG-PASS",
        "env:PG PASS",
        "env:PGPASS\n",
        " env:PGPASS",
        "ENV:PGPASS",
        "file:",
        "file:relative/path",
        "file:/",
        "file://host/path",
        "file:/path with space",
        "vault:secret/db",
        "vault:#password",
        "vault:secret/db#",
        "vault:secret db#password",
        "consul:kv/x",
        "${PGPASS}",
    ],
)
def test_malformed_references_are_refused_saying_what_one_looks_like(text: str) -> None:
    assert not is_secret_ref(text)
    with pytest.raises(ValueError, match="not a secret reference") as raised:
        parse_secret_ref(text)
    message = str(raised.value)
    assert "env:<NAME>" in message and "file:/" in message and "vault:<path>#<key>" in message


def test_the_error_never_repeats_the_text_which_may_be_a_literal_secret() -> None:
    with pytest.raises(ValueError) as raised:
        parse_secret_ref("planted-literal-9d2e")
    assert "planted-literal-9d2e" not in str(raised.value)


class _Settings(BaseModel):
    password_ref: str | None = None

    _form = field_validator("password_ref")(check_secret_ref)


def test_check_secret_ref_validates_ref_fields_of_pydantic_models() -> None:
    assert _Settings(password_ref="env:PGPASS").password_ref == "env:PGPASS"
    assert _Settings().password_ref is None
    with pytest.raises(ValidationError, match="not a secret reference"):
        _Settings(password_ref="hunter2")
