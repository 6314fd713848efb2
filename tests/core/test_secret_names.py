"""One list of secret-looking names (headers, config keys, log keys); one URL masker."""

from __future__ import annotations

import pytest

from onex_stream.core.secret_names import (
    SECRET_NAME,
    is_secret_name,
    mask_url_credentials,
    url_passwords,
)
from onex_stream.infra.observability.redaction import redact

# the union of the lists this one replaced: HTTP credential headers, lint's config keys
# and the log redaction's keys
SECRET_LOOKING = [
    # header names dropped on cross-origin redirects
    "Authorization",
    "Proxy-Authorization",
    "Cookie",
    "Set-Cookie",
    "X-Api-Token",
    "X-Api-Key",
    "X-Session-Id",
    "X-Client-Secret",
    "X-Auth-User",
    "X-Db-Password",
    "X-Credential",
    # contract config keys refused with literal values
    "password",
    "passwd",
    "secret",
    "token",
    "api_key",
    "apikey",
    "private_key",
    "privatekey",
    "credential",
    "credentials",
    "vault_token",
    "DB_PASSWORD",
    "client_secret",
    # log keys masked in key=value text
    "api-key",
    "access_token",
    "authorization",
    "x-auth-token",
]
NOT_SECRET_LOOKING = [
    "Accept",
    "Content-Type",
    "X-Trace",
    "Host",
    "user",
    "username",
    "dsn",
    "host",
    "timeout_ms",
    "max_rows",
    "allowed_hosts",
    "bootstrap_servers",
    "correlation_id",
]


@pytest.mark.parametrize("name", SECRET_LOOKING)
def test_secret_looking_names_are_recognised(name: str) -> None:
    assert is_secret_name(name)
    assert SECRET_NAME.search(name)
    assert is_secret_name(name.upper()) and is_secret_name(name.lower())


@pytest.mark.parametrize("name", NOT_SECRET_LOOKING)
def test_ordinary_names_are_not_secret_looking(name: str) -> None:
    assert not is_secret_name(name)


@pytest.mark.parametrize("name", SECRET_LOOKING)
def test_log_redaction_masks_the_value_of_every_secret_looking_key(name: str) -> None:
    for text in (f"{name}=planted-7c1e", f"{name}: planted-7c1e", f"'{name}': 'planted-7c1e'"):
        assert "planted-7c1e" not in redact(text)
    assert redact(f"{name}=planted-7c1e").startswith(name)


@pytest.mark.parametrize("name", NOT_SECRET_LOOKING)
def test_log_redaction_keeps_the_values_of_ordinary_keys(name: str) -> None:
    assert redact(f"{name}=orders-1") == f"{name}=orders-1"


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("postgresql://onex:s3cr3t@db:5432/orders", "postgresql://***@db:5432/orders"),
        ("GET https://user:pa55@example.com/x", "GET https://***@example.com/x"),
        ("https://ghp_tokenonly@github.com/o/r", "https://***@github.com/o/r"),
        ("redis://:only-password@cache:6379", "redis://***@cache:6379"),
        (
            "a postgresql://a:b@h1/x and amqp://c:d@h2/",
            "a postgresql://***@h1/x and amqp://***@h2/",
        ),
        ("://user:pw@host", "://***@host"),
        ("https://example.com/path?email=a@b.c", "https://example.com/path?email=a@b.c"),
        ("https://example.com/x", "https://example.com/x"),
        ("mail me at ada@example.com", "mail me at ada@example.com"),
        ("kafka://broker:9092", "kafka://broker:9092"),
    ],
)
def test_url_credentials_are_masked_and_the_rest_is_kept(text: str, masked: str) -> None:
    assert mask_url_credentials(text) == masked


@pytest.mark.parametrize(
    ("text", "passwords"),
    [
        ("postgresql://user:hunter2@db/x", ["hunter2"]),
        ("postgresql://user:${DB_PASSWORD}@db/x", ["${DB_PASSWORD}"]),
        ("postgresql://user@db/x", []),
        ("https://ghp_tokenonly@github.com/o/r", []),
        ("postgresql://db/x", []),
        ("x://a:b@h y://c:d:e@h", ["b", "d:e"]),
    ],
)
def test_url_passwords_lists_the_passwords_written_in_urls(text: str, passwords: list[str]) -> None:
    assert url_passwords(text) == passwords
