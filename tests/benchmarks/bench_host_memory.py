"""Memory of one runtime host with 10 nodes beside 10 hosts with one node each.

Run: ``python -m tests.benchmarks.bench_host_memory [-n N]``. Prints figures; asserts
nothing (the migration guide quotes them: docs/MIGRATION_GUIDE.md).

Both layouts run on ``memory://`` (no broker process to count), the local handler, web
server off, in worker processes of their own:

- consolidated: one process hosting ``node_0`` .. ``node_9`` that answered N envelopes
  spread over the ten nodes;
- per node: ten processes, each hosting one node (one container per node), each having
  answered N / 10 envelopes; all ten alive at once when measured.

For each process, once its envelopes are answered: RSS and PSS (``smaps_rollup``: PSS
shares the pages several processes map, such as the interpreter's, among them, so the
sum of PSS is what the ten really take together on one machine; in ten containers,
which share nothing, the sum of RSS is) and peak RSS (VmHWM).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from onex_stream.bootstrap import build_host, faust_app
from onex_stream.infra.event_bus.memory import get_broker
from tests.benchmarks.bench_inmemory_host import COMMAND_TOPIC, EVENT_TOPIC, command

REPO = Path(__file__).resolve().parents[2]
NODES = 10


def write_layout(root: Path, slugs: list[str]) -> Path:
    """A runtime contract hosting ``slugs`` (local.echo nodes) under ``root``; its path."""
    (root / "runtime").mkdir(parents=True)
    (root / "nodes").mkdir()
    for slug in slugs:
        (root / "nodes" / f"{slug}.yaml").write_text(
            f'schema_version: "1.0.0"\nname: "{slug}"\nnode_type: "COMPUTE"\n'
            'io_operations: [{type: local, operations: ["local.echo"]}]\n'
        )
    nodes = "\n".join(f'    - slug: "{slug}"' for slug in slugs)
    contract = root / "runtime" / "host.yaml"
    contract.write_text(
        'schema_version: "2.0.0"\nruntime:\n  name: "memory_bench"\n  event_bus:\n'
        f'    config:\n      topics: {{input: "{COMMAND_TOPIC}"}}\n      partitions: 4\n'
        f'  handlers:\n    - type: "local"\n  nodes:\n{nodes}\n'
    )
    return contract


async def serve(contract: Path, slugs: list[str], n: int) -> None:
    """Run the host, answer ``n`` envelopes, report ready, hold until told to stop."""
    url = "memory://memory-bench"
    host = build_host(
        contract,
        env={"ONEX_ENV": "test", "ONEX_LOG_FORMAT": "json"},
        bus_overrides={"web_enabled": False, "broker_url": url},
        logs="as-is",
    )
    app = faust_app(host)
    broker = get_broker(url)
    await app.start()
    await broker.wait_until(lambda: bool(app.consumer.assignment()), 30)
    for i in range(n):
        broker.append(COMMAND_TOPIC, command(i, target=slugs[i % len(slugs)]), key=b"%d" % i)
    await broker.wait_until(lambda: broker.count(EVENT_TOPIC) >= n, 300)
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    await app.stop()


def child_main(contract: str, slugs: str, n: int) -> None:
    """Entry point of one measured worker process."""
    asyncio.run(serve(Path(contract), slugs.split(","), n))


def memory_of(pid: int) -> dict[str, float]:
    """RSS, PSS and peak RSS of ``pid`` in MiB."""
    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    status = Path(f"/proc/{pid}/status").read_text().splitlines()

    def field(lines: list[str], name: str) -> float:
        return int(next(line for line in lines if line.startswith(name)).split()[1]) / 1024

    return {
        "rss": field(rollup, "Rss:"),
        "pss": field(rollup, "Pss:"),
        "peak": field(status, "VmHWM:"),
    }


def measure(layouts: list[tuple[Path, list[str], int]]) -> list[dict[str, float]]:
    """Start one worker process per layout, wait until all answered, measure them all."""
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from tests.benchmarks.bench_host_memory import child_main; "
                "child_main(sys.argv[1], sys.argv[2], int(sys.argv[3]))",
                str(contract),
                ",".join(slugs),
                str(n),
            ],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for contract, slugs, n in layouts
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            line = process.stdout.readline()
            if line.strip() != "ready":
                raise RuntimeError(f"worker {process.pid} failed before answering: {line!r}")
        time.sleep(1)  # let allocations settle
        return [memory_of(p.pid) for p in processes]
    finally:
        for process in processes:
            if process.stdin is not None:
                process.stdin.write("stop\n")
                process.stdin.close()
        for process in processes:
            process.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5_000, help="envelopes answered per layout")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (median)")
    args = parser.parse_args()
    slugs = [f"node_{i}" for i in range(NODES)]
    one: list[dict[str, float]] = []
    ten: list[list[dict[str, float]]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        together = write_layout(root / "together", slugs)
        apart = [write_layout(root / slug, [slug]) for slug in slugs]
        for _ in range(args.rounds):
            print("  one host, 10 nodes...", file=sys.stderr, flush=True)
            one += measure([(together, slugs, args.n)])
            print("  10 hosts, 1 node each...", file=sys.stderr, flush=True)
            ten.append(
                measure([(c, [s], args.n // NODES) for c, s in zip(apart, slugs, strict=True)])
            )
    med = statistics.median
    print(
        f"memory:// transport, local handler, web off, {args.n} envelopes, median of {args.rounds}"
    )
    print(f"{'layout':<32} {'RSS MiB':>9} {'PSS MiB':>9} {'peak RSS MiB':>13}")
    print(
        f"{'1 host process, 10 nodes':<32} {med(m['rss'] for m in one):>9.1f} "
        f"{med(m['pss'] for m in one):>9.1f} {med(m['peak'] for m in one):>13.1f}"
    )
    rss = med(sum(m["rss"] for m in r) for r in ten)
    pss = med(sum(m["pss"] for m in r) for r in ten)
    peak = med(sum(m["peak"] for m in r) for r in ten)
    print(f"{'10 host processes, 1 node each':<32} {rss:>9.1f} {pss:>9.1f} {peak:>13.1f}")
    each = med(m["rss"] for r in ten for m in r)
    print(f"{'  (one of them)':<32} {each:>9.1f}")
    print(f"ratio (sum of RSS): {rss / med(m['rss'] for m in one):.1f}x")


if __name__ == "__main__":
    main()
