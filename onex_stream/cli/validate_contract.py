"""``omnibase-runtime-validate-contract PATH...``: every check a start makes but connecting."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

from onex_stream.core.contracts import FileRegistry, check_node_contract
from onex_stream.core.contracts.loader import read_document
from onex_stream.core.contracts.registry import unbound_handler_warnings
from onex_stream.core.contracts.rules import EnumSeverity, Finding, classify, warning
from onex_stream.core.contracts.secret_checks import check_secret_refs
from onex_stream.core.contracts.startable import (
    STAGES,
    check_startable,
    unsupported_operations,
)
from onex_stream.core.errors import ContractValidationError
from onex_stream.infra.runtime.wiring import HANDLER_REGISTRY

HANDLER_OPERATIONS = {
    handler_type: getattr(cls, "supported_operations", None)
    for handler_type, cls in HANDLER_REGISTRY.items()
}


def main(argv: list[str] | None = None) -> int:
    """Validate runtime and node contracts (files or directories of ``*.yaml``)."""
    parser = argparse.ArgumentParser(
        prog="omnibase-runtime-validate-contract",
        description="Validate ONEX runtime host and node contracts: what a start would "
        "refuse (except connecting), plus lint rules ONEX001-ONEX010.",
    )
    parser.add_argument("paths", nargs="+", type=Path, help="contract files or directories")
    parser.add_argument(
        "--env",
        choices=STAGES,
        default=None,
        help="the ONEX_ENV to validate for (default: $ONEX_ENV, else prod)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--strict", action="store_true", help="exit 1 on warnings too")
    parser.add_argument(
        "--check-env",
        action="store_true",
        help="warn about env: secret references to variables this environment lacks",
    )
    args = parser.parse_args(argv)
    stage = args.env or os.environ.get("ONEX_ENV", "prod").lower()
    if stage not in STAGES:
        parser.error(f"ONEX_ENV={stage!r} is not one of dev, test, prod (or pass --env)")
    files = list(_contract_files(args.paths))
    findings = [f for path in files for f in check_file(path, stage, check_env=args.check_env)]
    if args.format == "json":
        print(json.dumps([f.as_json() for f in findings], indent=2))
    else:
        for finding in findings:
            print(finding.render(), end="\n\n")
        print(f"{len(files)} contract(s) checked (ONEX_ENV={stage}), {len(findings)} finding(s)")
    failing = {EnumSeverity.ERROR, *((EnumSeverity.WARNING,) if args.strict else ())}
    return 1 if any(f.severity in failing for f in findings) else 0


def check_file(
    path: Path, stage: str, env: dict[str, str] | None = None, *, check_env: bool = False
) -> list[Finding]:
    """The findings of one contract file for ``stage``, the environment being ``env``;
    ``check_env``: warn about ``env:`` references to variables ``env`` lacks."""
    env = dict(os.environ) if env is None else env
    try:
        document = read_document(path)
    except ContractValidationError as error:
        return [classify(error)]
    if "runtime" not in document.data:
        report = check_node_contract(path, env=env)
        return [*map(classify, report.findings), *(warning(str(path), w) for w in report.warnings)]
    definition, errors = FileRegistry(env).check_host(path)
    if definition is None:
        return [classify(error) for error in errors]
    unbound = set(unbound_handler_warnings(definition.contract, list(definition.nodes)))
    return [
        *check_startable(definition, stage, HANDLER_REGISTRY),
        *unsupported_operations(definition, stage, HANDLER_OPERATIONS),
        *check_secret_refs(definition, env if check_env else None),
        *(warning(str(path), w) for w in definition.warnings if w not in unbound),
    ]


def _contract_files(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in {".yaml", ".yml"})
        else:
            yield path


if __name__ == "__main__":
    sys.exit(main())
