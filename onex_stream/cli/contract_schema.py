"""``omnibase-runtime-contract-schema [--check] [--out DIR]``: write or check contract schemas."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from onex_stream.core.contracts.json_schema import REGENERATE_COMMAND, contract_schema_files


def main(argv: list[str] | None = None) -> int:
    """Write the contract JSON Schemas to ``--out``; with ``--check``, exit 1 on drift."""
    parser = argparse.ArgumentParser(
        prog="omnibase-runtime-contract-schema",
        description="Generate the JSON Schema of runtime host and node contracts.",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("contracts/schema"), help="directory of the schemas"
    )
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if a schema is out of date"
    )
    args = parser.parse_args(argv)
    out: Path = args.out
    files = contract_schema_files()
    if args.check:
        stale = [name for name, text in files.items() if not _same(out / name, text)]
        for name in stale:
            print(f"{out / name} is out of date with the contract models", file=sys.stderr)
        if stale:
            print(f"regenerate with: {REGENERATE_COMMAND}", file=sys.stderr)
            return 1
        print(f"{len(files)} schema(s) up to date in {out}")
        return 0
    out.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
        print(f"wrote {out / name}")
    return 0


def _same(path: Path, text: str) -> bool:
    return path.is_file() and path.read_text(encoding="utf-8") == text


if __name__ == "__main__":
    sys.exit(main())
