"""Throughput and latency of the runtime host on memory://, beside a bare Faust agent.

Run: ``make bench`` (or ``python tests/benchmarks/bench_inmemory_host.py [-n N]``).
Prints figures; asserts nothing. Variants, each on a fresh in-process broker:

- host: the runtime host (dev demo contract, local handler, 4 partitions);
- bare: a bare Faust agent on the same transport that decodes and re-encodes the
  JSON and awaits ``topic.send`` per event (Faust's documented style);
- latency: the host under a paced load, end-to-end latency per envelope;
- overhead: decode -> route -> encode per envelope in process, handler excluded;
- rss: peak RSS of a process hosting 10 nodes that answered N envelopes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import faust

from onex_stream.bootstrap import build_host, faust_app
from onex_stream.infra.event_bus.codec import decode_envelope
from onex_stream.infra.event_bus.memory import get_broker, reset_brokers
from onex_stream.infra.event_bus.records import response_record
from onex_stream.infra.observability.instrumented_handler import InstrumentedHandler

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "contracts" / "runtime" / "dev_demo_host.yaml"
COMMAND_TOPIC = "onex.demo.orders.cmd.v1"
EVENT_TOPIC = "onex.demo.orders.evt.v1"
QUIET = {"web_enabled": False}


def command(n: int, target: str = "echo_compute") -> bytes:
    return json.dumps(
        {
            "envelope_id": str(uuid.uuid4()),
            "correlation_id": str(uuid.uuid4()),
            "source_node": "bench",
            "target_node": target,
            "handler_type": "local",
            "operation": "local.echo",
            "timestamp": "2030-01-01T00:00:00Z",
            "payload": {"order_id": n, "items": [{"sku": "A-1", "qty": 2}], "note": "x" * 200},
        }
    ).encode()


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 10) - 1] if len(values) > 1 else values[0]


async def drain(app: faust.App, url: str, records: list[bytes], out_topic: str) -> float:
    """Start ``app``, append ``records`` to the command topic, time until all answered."""
    broker = get_broker(url)
    await app.start()
    await broker.wait_until(lambda: bool(app.consumer.assignment()), 30)
    started = time.perf_counter()
    for i, value in enumerate(records):
        broker.append(COMMAND_TOPIC, value, key=str(i).encode())
    await broker.wait_until(lambda: broker.count(out_topic) >= len(records), 300)
    elapsed = time.perf_counter() - started
    await app.stop()
    reset_brokers()
    return len(records) / elapsed


async def host_throughput(n: int) -> float:
    url = f"memory://host-{uuid.uuid4().hex}"
    host = build_host(DEMO, env={"ONEX_ENV": "test"}, bus_overrides={**QUIET, "broker_url": url})
    return await drain(faust_app(host), url, [command(i) for i in range(n)], EVENT_TOPIC)


async def bare_throughput(n: int) -> float:
    url = f"memory://bare-{uuid.uuid4().hex}"
    app = faust.App(
        f"bare-{uuid.uuid4().hex}",
        broker=url,
        store="memory://",
        web_enabled=False,
        value_serializer="raw",
        topic_partitions=4,
        topic_disable_leader=True,
        datadir=tempfile.mkdtemp(),
    )
    source, sink = app.topic(COMMAND_TOPIC), app.topic(EVENT_TOPIC)

    @app.agent(source)
    async def echo(stream: Any) -> None:
        async for value in stream:
            data = json.loads(value)
            await sink.send(key=data["correlation_id"].encode(), value=json.dumps(data).encode())

    return await drain(app, url, [command(i) for i in range(n)], EVENT_TOPIC)


async def ceiling_throughput(n: int) -> float:
    """Faust's own consumption path alone: a batching agent that only acks."""
    url = f"memory://ceiling-{uuid.uuid4().hex}"
    app = faust.App(
        f"ceiling-{uuid.uuid4().hex}",
        broker=url,
        store="memory://",
        web_enabled=False,
        value_serializer="raw",
        topic_partitions=4,
        topic_disable_leader=True,
        datadir=tempfile.mkdtemp(),
    )
    source, done = app.topic(COMMAND_TOPIC), get_broker(url)

    @app.agent(source)
    async def ack_only(stream: Any) -> None:
        async for events in stream.noack_take(1000, within=0.01):
            for event in events:
                event.ack()
                done.append(EVENT_TOPIC, None, partition=0)  # counted by drain()

    return await drain(app, url, [command(i) for i in range(n)], EVENT_TOPIC)


async def host_latency(n: int, rate: int) -> list[float]:
    """Seconds from append to response, under a paced load of ``rate`` envelopes/s."""
    url = f"memory://lat-{uuid.uuid4().hex}"
    host = build_host(DEMO, env={"ONEX_ENV": "test"}, bus_overrides={**QUIET, "broker_url": url})
    app, broker = faust_app(host), get_broker(url)
    await app.start()
    await broker.wait_until(lambda: bool(app.consumer.assignment()), 30)
    sent: dict[str, float] = {}
    burst = max(1, rate // 100)
    for start in range(0, n, burst):
        for i in range(start, min(n, start + burst)):
            value = command(i)
            sent[json.loads(value)["correlation_id"]] = time.perf_counter()
            broker.append(COMMAND_TOPIC, value, key=str(i).encode())
        await asyncio.sleep(0.01)
    await broker.wait_until(lambda: broker.count(EVENT_TOPIC) >= n, 60)
    await app.stop()
    # arrival times are recorded by the broker in ms; use our own clock via the log order
    latencies = []
    for p in range(broker.partitions_for(EVENT_TOPIC) or 0):
        for record in broker.records(EVENT_TOPIC, p):
            key = (record.key or b"").decode()
            latencies.append(record.timestamp_ms / 1000 - _wall(sent[key]))
    return latencies


_PERF_TO_WALL = time.time() - time.perf_counter()


def _wall(perf: float) -> float:
    return perf + _PERF_TO_WALL


async def routing_overhead(n: int) -> list[float]:
    """Seconds per envelope for decode -> route -> encode, minus the handler's own time."""
    host = build_host(DEMO, env={"ONEX_ENV": "test"}, bus_overrides=QUIET)
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
    records = [command(i) for i in range(n)]
    samples = []
    for raw in records:
        t0 = time.perf_counter()
        envelope = decode_envelope(raw)
        response = await host.handle(envelope)  # type: ignore[arg-type]
        response_record(response, EVENT_TOPIC)
        samples.append(time.perf_counter() - t0 - spent[0])
    await host.stop()
    return samples


def ten_node_rss(n: int) -> float:
    """Peak RSS (MiB) of a fresh process hosting 10 nodes that answered ``n`` envelopes."""
    code = (
        f"import asyncio, sys; sys.path.insert(0, {str(REPO)!r}); "
        "from tests.benchmarks.bench_inmemory_host import _rss_child, peak_rss_mib; "
        f"asyncio.run(_rss_child({n})); print(peak_rss_mib())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return float(result.stdout.strip().splitlines()[-1])


async def _rss_child(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "runtime").mkdir()
        (root / "nodes").mkdir()
        slugs = [f"node_{i}" for i in range(10)]
        for slug in slugs:
            (root / "nodes" / f"{slug}.yaml").write_text(
                f'schema_version: "1.0.0"\nname: "{slug}"\nnode_type: "COMPUTE"\n'
                'io_operations: [{type: local, operations: ["local.echo"]}]\n'
            )
        nodes = "\n".join(f'    - slug: "{slug}"' for slug in slugs)
        contract = root / "runtime" / "ten.yaml"
        contract.write_text(
            'schema_version: "2.0.0"\nruntime:\n  name: "ten_nodes"\n  event_bus:\n'
            '    config:\n      topics: {input: "onex.demo.orders.cmd.v1"}\n      partitions: 4\n'
            f'  handlers:\n    - type: "local"\n  nodes:\n{nodes}\n'
        )
        url = "memory://rss"
        host = build_host(
            contract, env={"ONEX_ENV": "test"}, bus_overrides={**QUIET, "broker_url": url}
        )
        records = [command(i, target=slugs[i % 10]) for i in range(n)]
        await drain(faust_app(host), url, records, EVENT_TOPIC)


def peak_rss_mib() -> float:
    """This process's peak RSS (VmHWM; ru_maxrss would include a forking parent's)."""
    status = Path("/proc/self/status").read_text().splitlines()
    return int(next(line for line in status if line.startswith("VmHWM:")).split()[1]) / 1024


def run(label: str, fn: Callable[[], Any]) -> Any:
    print(f"  running {label}...", file=sys.stderr, flush=True)
    return fn()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20_000, help="envelopes per throughput run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    args = parser.parse_args()
    if args.loop == "uvloop":
        import uvloop  # noqa: PLC0415 -- optional

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    host_rates, bare_rates, ceiling_rates = [], [], []
    for _ in range(args.rounds):
        host_rates.append(run("host", lambda: asyncio.run(host_throughput(args.n))))
        bare_rates.append(run("bare", lambda: asyncio.run(bare_throughput(args.n))))
        ceiling_rates.append(run("ceiling", lambda: asyncio.run(ceiling_throughput(args.n))))
    latencies = run("latency", lambda: asyncio.run(host_latency(5_000, rate=5_000)))
    overhead = run("overhead", lambda: asyncio.run(routing_overhead(args.n)))
    rss = run("rss", lambda: ten_node_rss(args.n))
    report(args, host_rates, bare_rates, ceiling_rates, latencies, overhead, rss)


def report(
    args: argparse.Namespace,
    host_rates: list[float],
    bare_rates: list[float],
    ceiling_rates: list[float],
    latencies: list[float],
    overhead: list[float],
    rss: float,
) -> None:
    """Print the figures."""
    host, bare = statistics.median(host_rates), statistics.median(bare_rates)
    rounds = f"median of {args.rounds} interleaved rounds"
    print(f"memory:// transport, {args.loop} loop, {args.n} envelopes, {rounds}")
    for label, rates in (
        ("runtime host (local handler)", host_rates),
        ("bare Faust agent", bare_rates),
        ("Faust path alone (ack only)", ceiling_rates),
    ):
        runs = [round(r) for r in rates]
        print(f"  {label:30s}{statistics.median(rates):10,.0f} envelopes/s  {runs}")
    print(f"  ratio host / bare             {host / bare:10.2f}x")
    print("end-to-end latency, host at 5,000 envelopes/s offered (ms resolution)")
    p50, p99 = percentile(latencies, 50) * 1e3, percentile(latencies, 99) * 1e3
    print(f"  p50 {p50:7.2f} ms   p99 {p99:7.2f} ms")
    print("routing overhead per envelope (decode -> route -> encode, handler excluded)")
    p50, p99 = percentile(overhead, 50) * 1e6, percentile(overhead, 99) * 1e6
    print(f"  p50 {p50:7.1f} us   p99 {p99:7.1f} us")
    print(f"peak RSS, 10 nodes hosted, {args.n} envelopes answered: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
