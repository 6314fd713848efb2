"""Quick CI check: the host's CPU per envelope against a bare Faust agent's, versus a baseline.

Run: ``python -m tests.benchmarks.quick_ratio [--update-baseline]`` (``make bench-check``).
On memory:// (no broker), in this process: the runtime host (dev demo contract, local
handler) and a bare Faust agent are started once, each on its own in-process broker;
after a warm-up slice each, they answer alternating slices of N commands (appended at
once), ``--rounds`` rounds, each round starting with the other one. The figure is the
median over rounds of

    ratio = bare agent's CPU µs per envelope / host's CPU µs per envelope

(higher is better; CPU per envelope is steadier than throughput on a shared machine, and
short alternating slices share its noise). Exits 1 when the ratio is more than 25%
below the committed baseline (``tests/benchmarks/baseline.json``); ``--update-baseline``
rewrites that file with this run's figures instead. See docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from onex_stream.infra.event_bus.memory import reset_brokers
from tests.benchmarks.common import Run, paired_ratios, rotated
from tests.benchmarks.memory_runs import Resident, bare_memory_app, memory_host, memory_url

BASELINE = Path(__file__).with_name("baseline.json")
KEY = "quick_ratio"
TOLERANCE = 0.25  # fail when the ratio drops more than this fraction below the baseline


@dataclass(frozen=True)
class Verdict:
    """This run's ratio against the baseline's."""

    ratio: float
    baseline: float
    tolerance: float = TOLERANCE

    @property
    def floor(self) -> float:
        """The lowest ratio that passes."""
        return self.baseline * (1 - self.tolerance)

    @property
    def passed(self) -> bool:
        return self.ratio >= self.floor

    def line(self) -> str:
        change = (self.ratio / self.baseline - 1) * 100
        outcome = "ok" if self.passed else "REGRESSION"
        return (
            f"ratio {self.ratio:.2f} vs baseline {self.baseline:.2f} ({change:+.0f}%), "
            f"floor {self.floor:.2f}: {outcome}"
        )


def cpu_ratios(host: Sequence[Run], bare: Sequence[Run]) -> list[float]:
    """Per round: the bare agent's CPU per envelope over the host's."""
    return paired_ratios((r.cpu_us for r in bare), (r.cpu_us for r in host))


def load_baseline(path: Path) -> float:
    """The committed ratio."""
    return float(json.loads(path.read_text())[KEY]["ratio"])


def baseline_document(results: dict[str, list[Run]], n: int, when: datetime) -> dict[str, Any]:
    """What ``--update-baseline`` writes: the ratio and the figures it came from."""
    host, bare = results["host"], results["bare"]
    ratios = cpu_ratios(host, bare)
    rates = paired_ratios((r.rate for r in host), (r.rate for r in bare))
    return {
        KEY: {
            "ratio": round(statistics.median(ratios), 3),
            "metric": "bare Faust agent CPU us/envelope / host CPU us/envelope, memory://, "
            "median of alternating slices",
            "measured": when.strftime("%Y-%m-%d"),
            "envelopes_per_slice": n,
            "rounds": len(ratios),
            "per_round": [round(r, 3) for r in ratios],
            "host_cpu_us": round(statistics.median(r.cpu_us for r in host), 1),
            "bare_cpu_us": round(statistics.median(r.cpu_us for r in bare), 1),
            "throughput_ratio_host_over_bare": round(statistics.median(rates), 3),
        }
    }


async def measure_slices(n: int, rounds: int, datadir: Path) -> dict[str, list[Run]]:
    """Start both apps, a warm-up slice each, then ``rounds`` alternating slices of ``n``."""
    host_url, bare_url = memory_url("host"), memory_url("bare")
    residents = {
        "host": Resident(memory_host(host_url, logs="as-is"), host_url),
        "bare": Resident(bare_memory_app(bare_url, datadir), bare_url),
    }
    results: dict[str, list[Run]] = {name: [] for name in residents}
    try:
        for resident in residents.values():
            await (await resident.start()).answer(n)
        for round_ in range(rounds):
            for name in rotated(list(residents), round_):
                results[name].append(await residents[name].answer(n))
                log(f"  round {round_ + 1}: {name}: {results[name][-1].cpu_us:.0f} µs CPU")
    finally:
        for resident in residents.values():
            await resident.stop()
        reset_brokers()
    return results


def measure(n: int, rounds: int) -> dict[str, list[Run]]:
    """The figures of one check."""
    with tempfile.TemporaryDirectory() as tmp:
        return asyncio.run(measure_slices(n, rounds, Path(tmp)))


def report(results: dict[str, list[Run]], n: int) -> float:
    """Print the figures; return the ratio."""
    host, bare = results["host"], results["bare"]
    ratios = cpu_ratios(host, bare)
    rates = paired_ratios((r.rate for r in host), (r.rate for r in bare))
    print(f"quick ratio, memory://, slices of {n:,} envelopes, median of {len(ratios)} rounds")
    for name, runs in results.items():
        cpu = statistics.median(r.cpu_us for r in runs)
        rate = statistics.median(r.rate for r in runs)
        print(f"  {name:5s} {cpu:7.0f} µs CPU per envelope  {rate:8,.0f} envelopes/s")
    print(f"  bare CPU / host CPU {statistics.median(ratios):5.2f}  per round {_rounded(ratios)}")
    print(f"  host / bare rate    {statistics.median(rates):5.2f}  per round {_rounded(rates)}")
    return statistics.median(ratios)


def _rounded(values: list[float]) -> list[float]:
    return [round(v, 2) for v in values]


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=500, help="envelopes per slice")
    parser.add_argument("--rounds", type=int, default=20, help="alternating rounds (median)")
    parser.add_argument("--baseline", type=Path, default=BASELINE)
    parser.add_argument("--update-baseline", action="store_true", help="rewrite the baseline")
    args = parser.parse_args(argv)
    results = measure(args.n, args.rounds)
    ratio = report(results, args.n)
    if args.update_baseline:
        document = baseline_document(results, args.n, datetime.now(UTC))
        args.baseline.write_text(json.dumps(document, indent=2) + "\n")
        print(f"  baseline written to {args.baseline}: ratio {document[KEY]['ratio']}")
        return 0
    verdict = Verdict(ratio, load_baseline(args.baseline))
    print(f"  {verdict.line()}")
    return 0 if verdict.passed else 1


if __name__ == "__main__":
    sys.exit(main())
