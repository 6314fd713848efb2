"""Strict, fail-fast loading of runtime and node contracts from YAML files."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from onex_stream.core.contracts.budgets import budget_problems
from onex_stream.core.contracts.env_expansion import expand_environment
from onex_stream.core.contracts.findings import findings_from
from onex_stream.core.contracts.lint import lint_schema_1, lint_secrets
from onex_stream.core.contracts.node_contract import ModelNodeContract
from onex_stream.core.contracts.runtime_contract import ModelRuntimeHostContract
from onex_stream.core.contracts.yaml_source import YamlDocument, parse_yaml
from onex_stream.core.errors import ContractValidationError

SUPPORTED_SCHEMAS = {1: "1.x (MVP)", 2: "2.x (Beta)"}
ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass
class ContractReport(Generic[ModelT]):
    """The outcome of checking one contract file: the model, or the findings."""

    path: Path
    document: YamlDocument | None = None
    contract: ModelT | None = None
    findings: list[ContractValidationError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def unwrap(self) -> ModelT:
        """The contract, or the first finding raised."""
        if self.contract is None or self.findings:
            raise self.findings[0]
        return self.contract


def check_runtime_contract(
    path: Path | str, *, env: Mapping[str, str] | None = None, lenient: bool = False
) -> ContractReport[ModelRuntimeHostContract]:
    """Check a runtime host contract without raising."""
    return _check(Path(path), ModelRuntimeHostContract, env, lenient, runtime=True)


def check_node_contract(
    path: Path | str, *, env: Mapping[str, str] | None = None, lenient: bool = False
) -> ContractReport[ModelNodeContract]:
    """Check a node contract without raising."""
    return _check(Path(path), ModelNodeContract, env, lenient, runtime=False)


def load_runtime_contract(
    path: Path | str, *, env: Mapping[str, str] | None = None
) -> ModelRuntimeHostContract:
    """Load a runtime host contract; raises ``ContractValidationError`` on any finding."""
    return check_runtime_contract(path, env=env).unwrap()


def load_node_contract(
    path: Path | str, *, env: Mapping[str, str] | None = None
) -> ModelNodeContract:
    """Load a node contract; raises ``ContractValidationError`` on any finding."""
    return check_node_contract(path, env=env).unwrap()


def read_document(path: Path) -> YamlDocument:
    """Read and parse a contract file, failing fast when it is missing or not YAML."""
    if not path.is_file():
        raise ContractValidationError(
            "Contract file not found",
            file=str(path),
            hint=f"No file at {path.absolute()}",
            action="Check the path (relative paths resolve from the current directory)",
        )
    document = parse_yaml(path.read_text(encoding="utf-8"), str(path))
    if not isinstance(document.data, dict):
        raise ContractValidationError(
            "A contract must be a YAML mapping",
            file=str(path),
            line=1,
            hint="The top level holds keys such as schema_version",
            action="Rewrite the file as a mapping of keys to values",
        )
    return document


def _check(
    path: Path,
    model: type[ModelT],
    env: Mapping[str, str] | None,
    lenient: bool,
    *,
    runtime: bool,
) -> ContractReport[ModelT]:
    report: ContractReport[ModelT] = ContractReport(path=path)
    try:
        document = report.document = read_document(path)
        major = _schema_major(document)
        report.findings += lint_secrets(document)
        if runtime and major == 1:
            report.findings += lint_schema_1(document)
        data = expand_environment(document, os.environ if env is None else env)
    except ContractValidationError as exc:
        report.findings.append(exc)
        return report
    contract, findings = _validate(model, document, data, lenient, report.warnings)
    report.findings += findings
    if isinstance(contract, ModelRuntimeHostContract):
        report.findings += _duplicates(contract, document)
        report.findings += [
            document.error(
                ("runtime", "handlers", index, "config", "retry_policy"),
                message,
                "The worst case of a partition's in-flight envelopes must finish within the "
                "consumer's rebalance timeout and poll interval",
                "Lower timeout_ms, max_retries or max_delay_ms, raise max_concurrent_operations "
                "or rebalance_timeout_ms, or lower max_inflight_envelopes",
            )
            for index, message in budget_problems(contract.runtime)
        ]
        if not contract.runtime.handlers:
            report.warnings.append(f"{path}: no handlers enabled (valid, but nothing can run)")
    report.contract = contract
    return report


def _duplicates(
    contract: ModelRuntimeHostContract, document: YamlDocument
) -> list[ContractValidationError]:
    findings = []
    for section, names in (
        ("handlers", [h.type.value for h in contract.runtime.handlers]),
        ("nodes", [n.slug for n in contract.runtime.nodes]),
    ):
        key = "type" if section == "handlers" else "slug"
        for index, name in enumerate(names):
            if name in names[:index]:
                findings.append(
                    document.error(
                        ("runtime", section, index, key),
                        f"Duplicate {section[:-1]} '{name}'",
                        f"Each {section[:-1]} may appear once in runtime.{section}",
                        "Remove the duplicate entry",
                    )
                )
    return findings


def _validate(
    model: type[ModelT],
    document: YamlDocument,
    data: dict[str, Any],
    lenient: bool,
    warnings: list[str],
) -> tuple[ModelT | None, list[ContractValidationError]]:
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        error = exc
    findings = findings_from(error, model, document)
    unknown = [f for f in findings if f.error.startswith("Unknown field")]
    if not lenient or len(unknown) != len(findings):
        return None, findings
    for detail in error.errors():
        _delete(data, detail["loc"])
    warnings += [f"{f.location}: {f.error} (ignored: lenient mode)" for f in unknown]
    return _validate(model, document, data, lenient=False, warnings=warnings)


def _delete(data: Any, loc: tuple[str | int, ...]) -> None:
    for part in loc[:-1]:
        data = data[part]
    del data[loc[-1]]


def _schema_major(document: YamlDocument) -> int | None:
    version = document.data.get("schema_version")
    if not isinstance(version, str) or not version.split(".")[0].isdigit():
        return None
    major = int(version.split(".")[0])
    if major not in SUPPORTED_SCHEMAS:
        raise document.error(
            ("schema_version",),
            f"Schema version mismatch: contract has {version}",
            f"This runtime reads schema_version {' and '.join(SUPPORTED_SCHEMAS.values())}",
            'Set schema_version to "1.0.0" or "2.0.0" and adapt the contract',
        )
    return major
