"""``omnibase-runtime-validate-contract PATH...``: schema and lint checks, exit 1 on findings."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path

from onex_stream.core.contracts import FileRegistry, check_node_contract
from onex_stream.core.contracts.loader import read_document
from onex_stream.core.errors import ContractValidationError


def main(argv: list[str] | None = None) -> int:
    """Validate runtime and node contracts (files or directories of ``*.yaml``)."""
    parser = argparse.ArgumentParser(
        prog="omnibase-runtime-validate-contract",
        description="Validate ONEX runtime host and node contracts.",
    )
    parser.add_argument("paths", nargs="+", type=Path, help="contract files or directories")
    args = parser.parse_args(argv)
    files = list(_contract_files(args.paths))
    findings = 0
    for path in files:
        for message in _check(path):
            findings += 1
            print(message, end="\n\n")
    print(f"{len(files)} contract(s) checked, {findings} finding(s)")
    return 1 if findings else 0


def _contract_files(paths: list[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in {".yaml", ".yml"})
        else:
            yield path


def _check(path: Path) -> list[str]:
    try:
        document = read_document(path)
    except ContractValidationError as error:
        return [error.message]
    if "runtime" in document.data:
        definition, findings = FileRegistry().check_host(path)
        warnings = definition.warnings if definition else ()
    else:
        report = check_node_contract(path)
        findings, warnings = report.findings, tuple(report.warnings)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return [finding.message for finding in findings]


if __name__ == "__main__":
    sys.exit(main())
