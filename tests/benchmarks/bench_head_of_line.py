"""Head-of-line blocking: fast envelopes' latency while 1% of calls take 200 ms, on memory://.

Run: ``python -m tests.benchmarks.bench_head_of_line [--seconds S] [--quick]``. Prints
figures; asserts nothing. The runtime host (dev demo contract, default settings) runs on
memory:// with its local handler replaced by ``DelayedLocalHandler``, which first sleeps
the command's ``payload.delay_ms`` (a real await, as an I/O call would). Commands
(local.echo) are appended at a steady 100/s for S seconds (30), on fresh hosts, with
``max_concurrent_operations`` 1 (the default: envelopes handled one after the other, so a
slow call holds back those after it by design) and 16 (``--concurrency``):

- slow calls: 1% of the commands (picked by a seeded random) carry ``delay_ms: 200``;
- no slow calls: the same pacing, no delay anywhere.

Latency = command appended -> answer appended (perf_counter). Reported for the fast
commands (no delay) of both runs: p50, p99, max, and the p99 ratio between the runs
(goal: within 2x); and the slow commands' own p50.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys

from onex_stream.core.enums import EnumHandlerType
from tests.benchmarks.common import Record, command, percentile
from tests.benchmarks.memory_runs import Paced, memory_host, memory_url, paced_latencies
from tests.support.delayed_handler import DelayedLocalHandler

RATE = 100  # commands/s
SLOW_FRACTION = 0.01
SLOW_MS = 200


def workload(count: int, slow_fraction: float, seed: int = 16) -> tuple[list[Record], set[str]]:
    """``count`` commands, a ``slow_fraction`` of them delayed; the delayed ones' ids."""
    pick = random.Random(seed)
    records, slow = [], set()
    for i in range(count):
        delayed = pick.random() < slow_fraction
        record = command(i, delay_ms=SLOW_MS) if delayed else command(i)
        if delayed:
            slow.add(json.loads(record[1])["envelope_id"])
        records.append(record)
    return records, slow


async def latencies(records: list[Record], concurrency: int) -> Paced:
    """End-to-end seconds per command of a fresh host with the delaying handler."""
    url = memory_url("hol")
    app = memory_host(
        url,
        bus={"max_concurrency": concurrency},
        logs="as-is",
        extra_handlers={EnumHandlerType.LOCAL: DelayedLocalHandler},
    )
    return await paced_latencies(app, url, records, RATE)


def split(measured: dict[str, float], slow: set[str]) -> tuple[list[float], list[float]]:
    """Fast and slow commands' latencies, in ms."""
    fast = [s * 1e3 for eid, s in measured.items() if eid not in slow]
    return fast, [s * 1e3 for eid, s in measured.items() if eid in slow]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, help="paced seconds per run (30; --quick 8)")
    parser.add_argument("--quick", action="store_true", help="shorter runs")
    parser.add_argument("--concurrency", type=int, default=16, help="the second setting (16)")
    args = parser.parse_args()
    seconds = args.seconds or (8.0 if args.quick else 30.0)
    count = int(RATE * seconds)
    for concurrency in (1, args.concurrency):
        runs = {}
        for label, fraction in (("no slow calls", 0.0), ("1% slow calls", SLOW_FRACTION)):
            log(f"  {label}, concurrency {concurrency}: {count} commands at {RATE}/s...")
            records, slow = workload(count, fraction)
            measured = asyncio.run(latencies(records, concurrency)).latencies
            runs[label] = split(measured, slow), len(slow)
        report(count, concurrency, runs)


def report(
    count: int, concurrency: int, runs: dict[str, tuple[tuple[list[float], list[float]], int]]
) -> None:
    """Print the figures."""
    print(
        f"head of line, memory://, max_concurrent_operations {concurrency}, {count:,} "
        f"local.echo commands at {RATE}/s per run, slow calls sleep {SLOW_MS} ms"
    )
    p99s = []
    for label, ((fast, slow), n_slow) in runs.items():
        p50, p99 = percentile(fast, 50), percentile(fast, 99)
        p99s.append(p99)
        slow_part = f", slow ({n_slow}) p50 {statistics.median(slow):6.1f} ms" if slow else ""
        print(
            f"  {label:15s} fast ({len(fast):,}) p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  "
            f"max {max(fast):6.1f} ms{slow_part}"
        )
    print(f"  fast p99 with / without slow calls {p99s[1] / p99s[0]:5.2f}x  (goal <= 2x)")


if __name__ == "__main__":
    main()
