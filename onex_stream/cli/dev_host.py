"""``omninode-runtime-host-dev CONTRACT [--input PATH|-]``: the dev/test runtime host.

Refuses ``ONEX_ENV=prod`` (and defaults ``ONEX_ENV`` to dev). Without ``--input`` it
runs like ``omnibase-runtime-host``. With ``--input`` it runs in process on the
in-memory transport: every JSON line of PATH goes to the first command topic,
every response envelope and dead letter is written to stdout as one JSON line,
and it exits 0 once every input is answered (its offset committed).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path
from typing import IO

from onex_stream.bootstrap import build_host
from onex_stream.cli.dev_only import refuses_prod
from onex_stream.cli.feeding import answer_lines
from onex_stream.cli.host import run_worker
from onex_stream.core.errors import RuntimeHostError, cannot_start
from onex_stream.infra.event_bus.memory import get_broker
from onex_stream.infra.runtime.host import RuntimeHost

BROKER_URL = "memory://dev-cli"
DEV_BUS = {
    "broker_url": BROKER_URL,
    "web_enabled": False,
    "faust_options": {"broker_commit_interval": 0.05},
}


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    parser = argparse.ArgumentParser(prog="omninode-runtime-host-dev", description=__doc__)
    parser.add_argument("contract", help="runtime host contract (YAML)")
    parser.add_argument("--input", help="JSON lines to feed to the command topic ('-' = stdin)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait (--input)")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    if refuses_prod("omninode-runtime-host-dev"):
        return 1
    print("WARNING: dev/test runtime host; never use it in production", file=sys.stderr)
    if args.input is None:
        return run_worker(args.contract, args.log_level, None, human_logs=True)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr)
    lines = _read_lines(sys.stdin if args.input == "-" else Path(args.input))
    try:
        host = build_host(args.contract, bus_overrides=DEV_BUS, logs="human")
    except RuntimeHostError as error:
        print(cannot_start(error), file=sys.stderr)
        return 1
    return asyncio.run(feed(host, lines, args.timeout, sys.stdout))


async def feed(host: RuntimeHost, lines: list[bytes], seconds: float, out: IO[str]) -> int:
    """Feed ``lines`` to the host, print every answer, return 0 once all are answered."""
    await host.bus.start_consuming()
    try:
        answers = await answer_lines(host, get_broker(BROKER_URL), lines, seconds)
    except TimeoutError:
        print(f"not every input was answered within {seconds} s", file=sys.stderr)
        return 1
    finally:
        await host.bus.shutdown()
    out.writelines(answer + "\n" for answer in answers)
    return 0


def _read_lines(source: IO[str] | Path) -> list[bytes]:
    text = source.read_text(encoding="utf-8") if isinstance(source, Path) else source.read()
    return [line.strip().encode() for line in text.splitlines() if line.strip()]


if __name__ == "__main__":
    sys.exit(main())
