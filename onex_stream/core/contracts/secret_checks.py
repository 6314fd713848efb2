"""What a start's secret resolution would refuse, checked without reading any secret."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from onex_stream.core.contracts.registry import HostDefinition
from onex_stream.core.contracts.rules import EnumSeverity, Finding
from onex_stream.core.contracts.yaml_source import Path_, parse_yaml


def check_secret_refs(
    definition: HostDefinition, env: Mapping[str, str] | None = None
) -> list[Finding]:
    """ONEX008: a key given both as ``<name>`` and ``<name>_ref`` (an error); with ``env``,
    ``env:`` references to variables it lacks (a warning: CI rarely holds the secrets)."""
    path = definition.path
    document = parse_yaml(path.read_text(encoding="utf-8"), str(path))
    runtime = definition.contract.runtime
    refs: list[tuple[Path_, Mapping[str, Any], str, Any]] = []
    for index, binding in enumerate(runtime.handlers):
        if binding.enabled:
            settings = binding.config.handler_settings()
            refs += _refs(settings, ("runtime", "handlers", index, "config"))
    security = runtime.event_bus.config.security
    if runtime.event_bus.kind == "kafka" and security.password_ref:
        at: Path_ = ("runtime", "event_bus", "config", "security", "password_ref")
        refs.append((at, {}, "password_ref", security.password_ref))
    findings = []
    for at, config, key, value in refs:
        name = key.removesuffix("_ref")
        if name in config:
            error = document.error(
                at,
                f"Both '{name}' and '{key}' are given",
                "A secret is either referenced or (for non-secrets) written, not both",
                f"Remove '{name}'",
            )
            findings.append(Finding("ONEX008", error))
        elif env is not None and value.startswith("env:") and value[4:] not in env:
            error = document.error(
                at,
                f"'{key}' references {value}, which is not set in this environment",
                "The start resolves env: references and fails when the variable is unset",
                f"Export {value[4:]} where the host runs",
            )
            findings.append(Finding("ONEX008", error, EnumSeverity.WARNING))
    return findings


def _refs(
    config: Mapping[str, Any], at: Path_
) -> Iterator[tuple[Path_, Mapping[str, Any], str, Any]]:
    for key, value in config.items():
        if isinstance(value, Mapping):
            yield from _refs(value, (*at, key))
        elif key.endswith("_ref") and key != "_ref" and isinstance(value, str):
            yield (*at, key), config, key, value
