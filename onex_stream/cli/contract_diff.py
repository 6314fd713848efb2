"""``omnibase-runtime-contract-diff OLD NEW``: list contract changes, exit 1 if one breaks."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from onex_stream.core.contracts import FileRegistry, load_node_contract
from onex_stream.core.contracts.diff import ContractChange, diff_hosts, diff_nodes, is_breaking
from onex_stream.core.contracts.loader import read_document
from onex_stream.core.errors import ContractValidationError

#: Exit codes: compatible, breaking, contracts that cannot be compared.
EXIT_COMPATIBLE, EXIT_BREAKING, EXIT_UNUSABLE = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    """Compare two runtime host contracts (with their nodes) or two node contracts."""
    parser = argparse.ArgumentParser(
        prog="omnibase-runtime-contract-diff",
        description="List the changes between two contracts; exit 1 if any is breaking, "
        "2 if they cannot be loaded or compared.",
    )
    parser.add_argument("old", type=Path, help="the published contract")
    parser.add_argument("new", type=Path, help="the changed contract")
    parser.add_argument("--format", choices=["text", "json"], default="text")
    args = parser.parse_args(argv)
    try:
        changes = compare(args.old, args.new)
    except (ContractValidationError, ValueError) as error:
        print(getattr(error, "message", str(error)), file=sys.stderr)
        return EXIT_UNUSABLE
    breaking = is_breaking(changes)
    if args.format == "json":
        payload = {"breaking": breaking, "changes": [change.as_dict() for change in changes]}
        print(json.dumps(payload, indent=2))
    else:
        for change in changes:
            flag = "BREAKING" if change.breaking else "ok"
            print(f"{flag:<9}{change.kind.value:<22}{change.location}: {change.detail}")
        count = sum(change.breaking for change in changes)
        print(f"{len(changes)} change(s), {count} breaking")
    return EXIT_BREAKING if breaking else EXIT_COMPATIBLE


def compare(old: Path, new: Path) -> list[ContractChange]:
    """The changes from ``old`` to ``new`` (both runtime or both node contracts)."""
    old_is_host, new_is_host = _is_host(old), _is_host(new)
    if old_is_host != new_is_host:
        raise ValueError(
            f"cannot compare a {_kind(old_is_host)} contract ({old}) with a "
            f"{_kind(new_is_host)} contract ({new})"
        )
    if old_is_host:
        registry = FileRegistry()
        before, after = registry.load_host(old), registry.load_host(new)
        return diff_hosts(before.contract, before.nodes, after.contract, after.nodes)
    return diff_nodes(load_node_contract(old), load_node_contract(new))


def _is_host(path: Path) -> bool:
    return "runtime" in read_document(path).data


def _kind(is_host: bool) -> str:
    return "runtime host" if is_host else "node"


if __name__ == "__main__":
    sys.exit(main())
