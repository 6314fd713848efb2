"""Contract lint rules: no literal secrets, no Beta-only fields under schema 1.x."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from onex_stream.core.contracts.yaml_source import Path_, YamlDocument
from onex_stream.core.errors import ContractValidationError

_SECRET_KEY = re.compile(
    r"(^|_)(password|passwd|secret|token|api_?key|private_?key|credentials?)$", re.I
)
_REFERENCE_ONLY = re.compile(r"^\$\{[A-Za-z_][A-Za-z0-9_]*(:-)?\}$")
SECRET_REF = re.compile(r"^(vault:[^#\s]+#\S+|env:[A-Za-z_][A-Za-z0-9_]*)$")
_URL_PASSWORD = re.compile(r"://[^/\s:@]+:(?P<password>[^@\s/]+)@")
_BETA_RUNTIME_KEYS = (
    "tenant_id",
    "max_concurrent_operations",
    "shutdown_timeout_seconds",
    "health",
    "metrics",
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
        if key == "secret_ref" or key.endswith("_ref"):
            if not SECRET_REF.match(value):
                findings.append(
                    document.error(
                        path,
                        f"Malformed secret reference in '{key}'",
                        "References look like 'vault:<path>#<key>' or 'env:<NAME>'",
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
            'and consul handlers need schema_version "2.0.0"',
            'Upgrade the contract to schema_version: "2.0.0", or remove the field',
        )
        for path, what in paths
    ]


def _looks_like_secret(key: str, value: str) -> bool:
    if _SECRET_KEY.search(key):
        return not _REFERENCE_ONLY.match(value)
    match = _URL_PASSWORD.search(value)
    return match is not None and not match["password"].startswith("${")


def _literal_secret(document: YamlDocument, path: Path_) -> ContractValidationError:
    return document.error(
        path,
        f"Literal secret in '{'.'.join(map(str, path))}'",
        "Secrets are referenced, never written in contracts",
        "Use secret_ref: 'vault:<path>#<key>' or 'env:<NAME>', or ${VAR} from the environment",
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
