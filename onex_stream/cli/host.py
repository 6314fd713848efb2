"""``omnibase-runtime-host CONTRACT``: the production runtime host (a Faust worker)."""

from __future__ import annotations

import argparse
import sys

import faust

from onex_stream.bootstrap import LogFormat, build_host, worker_process_app
from onex_stream.core.errors import RuntimeHostError, cannot_start


def main(argv: list[str] | None = None) -> int:
    """Run ``CONTRACT``'s host until SIGTERM/SIGINT, like ``faust -A onex_stream worker``."""
    parser = argparse.ArgumentParser(
        prog="omnibase-runtime-host", description="Run an ONEX runtime host (Faust worker)."
    )
    parser.add_argument("contract", help="runtime host contract (YAML)")
    parser.add_argument("--log-level", default="info", help="debug, info, warning, error")
    parser.add_argument("--web-port", type=int, default=None, help="health/metrics port")
    parser.add_argument(
        "--web-bind",
        default=None,
        metavar="ADDRESS",
        help="address of the health/metrics web server (default: the contract's "
        "runtime.health.bind, 127.0.0.1 unless set; 0.0.0.0 in containers)",
    )
    args = parser.parse_args(argv)
    return run_worker(args.contract, args.log_level, args.web_port, web_bind=args.web_bind)


def run_worker(
    contract: str,
    log_level: str,
    web_port: int | None,
    *,
    web_bind: str | None = None,
    human_logs: bool = False,
) -> int:
    """Build the host and run it as a Faust worker; returns the exit code.

    ``web_port`` and ``web_bind`` override the contract's ``runtime.health`` when given.
    """
    overrides: dict[str, object] = {} if web_port is None else {"web_port": web_port}
    if web_bind is not None:
        overrides["web_bind"] = web_bind
    try:
        logs: LogFormat | None = "human" if human_logs else None
        app = worker_process_app(build_host(contract, bus_overrides=overrides, logs=logs))
    except RuntimeHostError as error:
        print(cannot_start(error), file=sys.stderr)
        return 1
    faust.Worker(app, loglevel=log_level).execute_from_commandline()
    return 0


if __name__ == "__main__":
    sys.exit(main())
