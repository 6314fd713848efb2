"""Contract lint rules: no literal secrets, no Beta-only fields under schema 1.x."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from onex_stream.core.contracts.yaml_source import Path_, YamlDocument
from onex_stream.core.errors import ContractValidationError
from onex_stream.core.secret_names import SECRET_NAME, url_passwords
from onex_stream.core.secret_refs import REFERENCE_FORMS, is_secret_ref

_REFERENCE_ONLY = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:-)?\}$")
_KEY_SEPARATOR = re.compile(r"[_.-]")
# values that are credentials whatever their key: cloud keys, vendor tokens, JWTs, PEM keys
_CREDENTIAL = re.compile(
    r"\bAKIA[0-9A-Z]{16}\b|\bgh[pousr]_[A-Za-z0-9]{30,}|\bxox[abprs]-[A-Za-z0-9-]{10,}"
    r"|\bsk-[A-Za-z0-9_-]{20,}|\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\."
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----"
)
_BETA_RUNTIME_KEYS = (
    "tenant_id",
    "max_concurrent_operations",
    "shutdown_timeout_seconds",
    "health",
    "metrics",
    "idempotency",
)
_BETA_HANDLER_CONFIG_KEYS = (
    "timeout_ms",
    "retry_policy",
    "rate_limit",
    "rate_limit_per_second",
    "circuit_breaker",
    "pool_size",
)
_BETA_HANDLER_TYPES = ("vault", "consul")


def lint_secrets(document: YamlDocument) -> list[ContractValidationError]:
    """Findings for values that look like literal secrets."""
    findings = []
    for path, value in _walk(document.data, ()):
        key = str(path[-1]) if path else ""
        if not isinstance(value, str) or not value:
            continue
        if key.endswith("_ref"):
            if not is_secret_ref(value):
                findings.append(
                    document.error(
                        path,
                        f"Malformed secret reference in '{key}'",
                        f"References look like {REFERENCE_FORMS}",
                        "Rewrite the reference in one of those forms",
                    )
                )
        elif _looks_like_secret(key, value):
            findings.append(_literal_secret(document, path))
    return findings


def lint_schema_1(document: YamlDocument) -> list[ContractValidationError]:
    """Findings for Beta-only fields used by a schema 1.x runtime contract."""
    runtime = document.data.get("runtime") if isinstance(document.data, dict) else None
    if not isinstance(runtime, dict):
        return []
    paths: list[tuple[Path_, str]] = [
        (("runtime", key), f"'{key}'") for key in _BETA_RUNTIME_KEYS if key in runtime
    ]
    bus_config = (runtime.get("event_bus") or {}).get("config") or {}
    if isinstance(bus_config, dict) and "subscriptions" in bus_config:
        paths.append((("runtime", "event_bus", "config", "subscriptions"), "'subscriptions'"))
    for index, node in enumerate(runtime.get("nodes") or []):
        if isinstance(node, dict) and "idempotent" in node:
            paths.append((("runtime", "nodes", index, "idempotent"), "'idempotent'"))
    for index, handler in enumerate(runtime.get("handlers") or []):
        if not isinstance(handler, dict):
            continue
        if handler.get("type") in _BETA_HANDLER_TYPES:
            path = ("runtime", "handlers", index, "type")
            paths.append((path, f"handler type '{handler['type']}'"))
        config = handler.get("config") or {}
        for key in _BETA_HANDLER_CONFIG_KEYS:
            if isinstance(config, dict) and key in config:
                paths.append((("runtime", "handlers", index, "config", key), f"'{key}'"))
    return [
        document.error(
            path,
            f"{what} is a Beta field, not allowed in schema_version 1.x",
            "Schema 1.x is the MVP schema; retry policies, rate limits, tenants, vault "
            'and consul handlers, idempotency settings need schema_version "2.0.0"',
            'Upgrade the contract to schema_version: "2.0.0", or remove the field',
        )
        for path, what in paths
    ]


def _looks_like_secret(key: str, value: str) -> bool:
    if _names_a_secret(key):
        return not _REFERENCE_ONLY.match(value)
    if _CREDENTIAL.search(value):
        return True
    return any(not password.startswith("${") for password in url_passwords(value))


def _names_a_secret(key: str) -> bool:
    """The key's last word is secret-looking (vault_token, api_key, password), and does not
    name a file holding one (ssl_keyfile) nor something about one (session_timeout_ms)."""
    last = _KEY_SEPARATOR.split(key)[-1]
    return SECRET_NAME.search(last) is not None and not last.lower().endswith("file")


def _literal_secret(document: YamlDocument, path: Path_) -> ContractValidationError:
    return document.error(
        path,
        f"Literal secret in '{'.'.join(map(str, path))}'",
        "Secrets are referenced, never written in contracts",
        f"Use secret_ref: {REFERENCE_FORMS}, or ${{VAR}} from the environment",
    )


def _walk(value: Any, path: Path_) -> Iterator[tuple[Path_, Any]]:
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _walk(child, (*path, str(key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _walk(child, (*path, index))
    else:
        yield path, value
