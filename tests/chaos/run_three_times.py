"""Runs the chaos suite three times in a row and prints every ledger (issue 12's acceptance:
three passes in a row, ledgers in the closing note).

Run from the project root: ``.venv/bin/python tests/chaos/run_three_times.py [--runs N]
[pytest arguments...]``. Each run writes its ledgers to
``build/chaos-ledgers/<stamp>-run<i>/`` and prints them as a table; the last lines are every
run's ledgers in one table. Stops at the first failing run (exit status 1).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.chaos.ledger import DEFAULT_LEDGER_DIR, LEDGER_DIR_VARIABLE, table  # noqa: E402


def ledgers_in(directory: Path) -> list[dict[str, object]]:
    """The JSON ledgers of a directory, in the order they were written."""
    files = sorted(directory.glob("*.json"), key=lambda path: path.stat().st_mtime)
    return [json.loads(path.read_text()) for path in files]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    options, pytest_args = parser.parse_known_args()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    every: list[dict[str, object]] = []
    for run in range(1, options.runs + 1):
        directory = DEFAULT_LEDGER_DIR / f"{stamp}-run{run}"
        env = {**os.environ, LEDGER_DIR_VARIABLE: str(directory)}
        command = [sys.executable, "-m", "pytest", "tests/chaos", "-q", "-rxX", *pytest_args]
        print(f"=== chaos run {run} of {options.runs}: {' '.join(command[2:])}", flush=True)
        began = time.monotonic()
        status = subprocess.run(command, cwd=ROOT, env=env, check=False).returncode
        seconds = time.monotonic() - began
        ledgers = ledgers_in(directory)
        for ledger in ledgers:
            ledger["scenario"] = f"run{run} {ledger['scenario']}"
        every.extend(ledgers)
        verdict = "passed" if status == 0 else f"FAILED (pytest exit status {status})"
        print(f"=== chaos run {run}: {verdict} in {seconds:.1f} s; ledgers in {directory}")
        if status != 0:
            return 1
    print(f"\n=== {options.runs} chaos runs in a row passed; every ledger:")
    print(table(every))
    return 0


if __name__ == "__main__":
    sys.exit(main())
