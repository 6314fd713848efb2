"""``omnibase-runtime-asyncapi CONTRACT [--out FILE]``: a host's AsyncAPI 3.0.0 document."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from onex_stream.core.contracts import FileRegistry
from onex_stream.core.contracts.asyncapi import build_asyncapi
from onex_stream.core.errors import ContractValidationError


def main(argv: list[str] | None = None) -> int:
    """Print (or write to ``--out``) the AsyncAPI 3.0.0 JSON of a runtime contract."""
    parser = argparse.ArgumentParser(
        prog="omnibase-runtime-asyncapi",
        description="Describe a runtime host's topics as an AsyncAPI 3.0.0 document (JSON).",
    )
    parser.add_argument("contract", type=Path, help="runtime host contract (YAML)")
    parser.add_argument("--out", type=Path, help="write the document here instead of stdout")
    args = parser.parse_args(argv)
    try:
        host = FileRegistry().load_host(args.contract)
    except ContractValidationError as error:
        print(error.message, file=sys.stderr)
        return 1
    text = json.dumps(build_asyncapi(host.contract, host.nodes), indent=2) + "\n"
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
