"""Throughput, CPU and latency of the runtime host on memory://, beside bare Faust agents.

Run: ``python -m tests.benchmarks.bench_inmemory_host [-n N] [--rounds R] [--quick]``.
Prints figures; asserts nothing. In one process, interleaved rounds (each round starts
one variant later), each run on a fresh in-process broker holding N commands
(~440-byte local.echo envelopes, 4 partitions) before the app starts:

- host: the runtime host (dev demo contract, local handler);
- bare: a bare Faust agent, ``async for value in stream`` and ``await topic.send`` per
  event, doing the same decode -> build answer -> encode work as bench_kafka's;
- ack only: Faust's consumption path alone, a batching agent that only acks
  (``noack_take``); the host's goal is to be at least as fast (ratio >= 1.0).

Throughput = N / (all N answered - partitions assigned); CPU µs per envelope = this
process's CPU time over the same window / N. Then, on a fresh host:

- latency: local.echo end to end (command appended -> answer appended, perf_counter),
  paced at half the host's median throughput just measured: p50, p99, p99.9 (the app
  as a worker process runs it: its start-up objects frozen out of the GC's passes);
- overhead: decode -> route -> encode per envelope in process, handler excluded;
- rss: peak RSS of a process of its own hosting 10 nodes that answered N envelopes.
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
from typing import Any

import faust

from onex_stream.bootstrap import build_host, faust_app
from onex_stream.infra.event_bus.codec import decode_envelope
from onex_stream.infra.event_bus.memory import get_broker
from onex_stream.infra.event_bus.records import response_record
from onex_stream.infra.observability.instrumented_handler import InstrumentedHandler
from tests.benchmarks.common import (
    COMMAND_TOPIC,
    EVENT_TOPIC,
    REPO,
    Run,
    app_options,
    commands,
    interleaved,
    paired_ratios,
    peak_rss_mib,
    percentile,
    ratio_line,
    run_line,
)
from tests.benchmarks.common import command as command_record
from tests.benchmarks.memory_runs import (
    DEMO,
    Paced,
    bare_memory_app,
    drain_memory,
    memory_host,
    memory_url,
    paced_latencies,
)

__all__ = ["COMMAND_TOPIC", "DEMO", "EVENT_TOPIC", "command", "drain"]
LABELS = {
    "host": "runtime host (local handler)",
    "bare": "bare Faust agent",
    "ack only": "Faust path alone (ack only)",
}


def command(n: int, target: str = "echo_compute") -> bytes:
    """One command's value (for bench_host_memory, bench_metrics_scrape, bench_effectively_once)."""
    return command_record(n, target)[1]


async def drain(app: faust.App, url: str, records: list[bytes], out_topic: str) -> float:
    """Envelopes/s of ``app`` answering ``records`` (for bench_effectively_once)."""
    keyed = [(b"%d" % i, value) for i, value in enumerate(records)]
    return (await drain_memory(app, url, keyed, out_topic)).rate


async def host_run(n: int) -> Run:
    url = memory_url("host")
    return await drain_memory(memory_host(url, logs="as-is"), url, commands(n))


async def bare_run(n: int) -> Run:
    url = memory_url("bare")
    with tempfile.TemporaryDirectory() as tmp:
        return await drain_memory(bare_memory_app(url, Path(tmp)), url, commands(n))


async def ack_only_run(n: int) -> Run:
    """Faust's own consumption path alone: a batching agent that only acks."""
    url = memory_url("ackonly")
    done = get_broker(url)
    with tempfile.TemporaryDirectory() as tmp:
        app = faust.App(f"ackonly-{url[-8:]}", **app_options(url, Path(tmp)))

        @app.agent(app.topic(COMMAND_TOPIC))
        async def ack_only(stream: Any) -> None:
            async for events in stream.noack_take(1000, within=0.01):
                for event in events:
                    event.ack()
                    done.append(EVENT_TOPIC, None, partition=0)  # counted by drain_memory

        return await drain_memory(app, url, commands(n))


VARIANTS = {"host": host_run, "bare": bare_run, "ack only": ack_only_run}


async def routing_overhead(n: int) -> list[float]:
    """Seconds per envelope for decode -> route -> encode, minus the handler's own time."""
    host = build_host(DEMO, env={"ONEX_ENV": "test"}, bus_overrides={"web_enabled": False})
    instrumented = host.runtime.handlers[next(iter(host.runtime.handlers))]
    assert isinstance(instrumented, InstrumentedHandler)
    handler = instrumented.inner  # the handler's own time, without the metrics wrapper
    spent = [0.0]
    execute = handler.execute

    async def timed(envelope: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return await execute(envelope)
        finally:
            spent[0] = time.perf_counter() - t0

    handler.execute = timed  # type: ignore[method-assign]
    await host.start()
    samples = []
    for _, raw in commands(n):
        t0 = time.perf_counter()
        response = await host.handle(decode_envelope(raw))  # type: ignore[arg-type]
        response_record(response, EVENT_TOPIC)
        samples.append(time.perf_counter() - t0 - spent[0])
    await host.stop()
    return samples


def ten_node_rss(n: int) -> float:
    """Peak RSS (MiB) of a fresh process hosting 10 nodes that answered ``n`` envelopes."""
    child = [sys.executable, "-m", "tests.benchmarks.bench_inmemory_host", "--rss-child", str(n)]
    result = subprocess.run(child, capture_output=True, text=True, check=True, cwd=REPO)
    return float(result.stdout.strip().splitlines()[-1])


async def _rss_child(n: int) -> None:
    from tests.benchmarks.bench_host_memory import write_layout  # noqa: PLC0415 -- imports us

    slugs = [f"node_{i}" for i in range(10)]
    url = memory_url("rss")
    with tempfile.TemporaryDirectory() as tmp:
        contract = write_layout(Path(tmp), slugs)
        overrides = {"web_enabled": False, "broker_url": url}
        host = build_host(contract, env={"ONEX_ENV": "test"}, bus_overrides=overrides)
        records = [command_record(i, target=slugs[i % 10]) for i in range(n)]
        await drain_memory(faust_app(host), url, records)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, help="envelopes per throughput run (20,000)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (3)")
    parser.add_argument("--latency-seconds", type=float, help="paced latency run (10)")
    parser.add_argument("--quick", action="store_true", help="small N, 1 round, short latency")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    parser.add_argument("--rss-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    quick = args.quick
    args.n = args.n or (3_000 if quick else 20_000)
    args.rounds = args.rounds or (1 if quick else 3)
    args.latency_seconds = args.latency_seconds or (2.0 if quick else 10.0)
    return args


def main() -> None:
    args = parse_args()
    if args.rss_child:
        asyncio.run(_rss_child(args.rss_child))
        print(peak_rss_mib())
        return
    if args.loop == "uvloop":
        import uvloop  # noqa: PLC0415 -- optional

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    results = interleaved(
        list(VARIANTS), lambda name: asyncio.run(VARIANTS[name](args.n)), args.rounds, log
    )
    rate = statistics.median(r.rate for r in results["host"]) / 2
    count = max(100, int(rate * args.latency_seconds))
    log(f"  latency: {count} envelopes at {rate:,.0f}/s...")
    url = memory_url("latency")
    app = memory_host(url, logs="as-is")
    app.owns_process = True  # as a worker process: its start-up objects leave the GC's passes
    latency = asyncio.run(paced_latencies(app, url, commands(count), rate))
    log("  routing overhead...")
    overhead = asyncio.run(routing_overhead(args.n))
    log("  rss...")
    rss = ten_node_rss(args.n)
    report(args, results, (rate, count, latency), overhead, rss)


def report(
    args: argparse.Namespace,
    results: dict[str, list[Run]],
    latency: tuple[float, int, Paced],
    overhead: list[float],
    rss: float,
) -> None:
    """Print the figures."""
    print(
        f"memory:// transport, {args.loop} loop, {args.n:,} envelopes of ~440 bytes, "
        f"4 partitions, median of {args.rounds} interleaved rounds"
    )
    for name, label in LABELS.items():
        print(run_line(label, results[name]))
    host = results["host"]
    for other, goal in (("bare", ""), ("ack only", "  (goal >= 1.0)")):
        rates = paired_ratios((r.rate for r in host), (r.rate for r in results[other]))
        print(ratio_line(f"host / {other} (throughput)", rates) + goal)
    cpu = paired_ratios((r.cpu_us for r in results["bare"]), (r.cpu_us for r in host))
    print(ratio_line("bare CPU / host CPU per envelope", cpu))
    rate, count, paced = latency
    latencies = list(paced.latencies.values())
    print(
        f"end-to-end latency, local.echo, {count:,} envelopes paced at {rate:,.0f}/s "
        f"(half the host's median throughput), {len(latencies):,} answered"
    )
    quantiles = "   ".join(
        f"p{q:g} {percentile(latencies, q) * 1e3:7.2f} ms" for q in (50, 99, 99.9)
    )
    print(f"  {quantiles}   last answer {paced.tail * 1e3:.0f} ms after the last command")
    print("routing overhead per envelope (decode -> route -> encode, handler excluded)")
    p50, p99 = percentile(overhead, 50) * 1e6, percentile(overhead, 99) * 1e6
    print(f"  p50 {p50:7.1f} µs   p99 {p99:7.1f} µs")
    print(f"peak RSS, 10 nodes hosted, {args.n:,} envelopes answered: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
