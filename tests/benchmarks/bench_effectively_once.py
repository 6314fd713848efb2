"""What effectively-once side effects cost and what they prevent.

Run: ``python tests/benchmarks/bench_effectively_once.py [memory] [throughput] [ledger]``
(all three by default). Prints figures; asserts nothing.

- memory: bytes an answers table holds per 100,000 remembered answers (tracemalloc over
  an ``AnswerMemory`` filled with the answers of ~440-byte commands), and the changelog
  bytes per answer;
- throughput: envelopes/s of the host with an EFFECT node (local.echo) remembered by
  envelope_id (``idempotent: true``) and not (``false``), interleaved rounds in one run,
  on memory:// and on tansu (the latter through ``bench_kafka``'s measurement: from the
  partition assignment to N answers seen by a separate consuming process);
- ledger: N ``db.execute`` inserts on tansu + PostgreSQL, the worker SIGKILLed three
  times mid-stream, with the answers table on and keyed inserts (``ON CONFLICT
  (envelope_id) DO NOTHING``), with it off and plain inserts (what it prevents), and
  with it on and plain inserts (what only the residual window leaves).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from onex_stream.bootstrap import build_host, faust_app
from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.responses import ResponseFactory
from onex_stream.devtools.embedded_postgres import EmbeddedPostgres
from onex_stream.infra.event_bus.answer_memory import TO_EVENTS, AnswerMemory
from onex_stream.infra.event_bus.records import response_record
from tests.benchmarks import bench_inmemory_host as inmemory
from tests.benchmarks import bench_kafka as kafka
from tests.support import effectively_once as eo
from tests.support.kafka import TansuBroker
from tests.support.workers import WorkerProcess

EFFECT_NODE = """\
schema_version: "1.0.0"
name: "echo_effect"
node_type: "EFFECT"
io_operations: [{type: local, operations: ["local.echo"]}]
"""
MEMORY_RUNTIME = """\
schema_version: "2.0.0"
runtime:
  name: "bench_eo"
  event_bus:
    kind: "inmemory"
    config: {{topics: {{input: "onex.demo.orders.cmd.v1"}}, partitions: 4}}
  handlers: [{{type: local}}]
  nodes: [{{slug: echo_effect, idempotent: {on}}}]
  nodes_dir: "."
"""
KAFKA_RUNTIME = """\
schema_version: "2.0.0"
runtime:
  name: "{name}"
  event_bus: {{kind: kafka, config: {config}}}
  handlers: [{{type: local}}]
  nodes: [{{slug: echo_effect, idempotent: {on}}}]
  nodes_dir: "."
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- memory ------------------------------------------------------------------------------


def answers(n: int) -> list[tuple[bytes, Any]]:
    """(key, answer record) of ``n`` commands like the benchmarks' (~440 bytes each)."""
    factory = ResponseFactory()
    built = []
    for i in range(n):
        command = ModelOnexEnvelope.from_json(inmemory.command(i, target="echo_effect"))
        response = factory.success(command, command.payload, source_node="echo_effect")
        built.append((command.envelope_id.bytes, response_record(response, "onex.t.o.evt.v1")))
    return built


def memory_per_100k(n: int = 100_000, partitions: int = 8) -> dict[str, float]:
    """Bytes held by an AnswerMemory with ``n`` answers spread over ``partitions``."""
    built = answers(n)
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    memory = AnswerMemory(86_400, n, time.time)
    stored_sizes = [
        len(memory.store(i % partitions, key, record, TO_EVENTS))
        for i, (key, record) in enumerate(built)
    ]
    held = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert len(memory) == n
    value = statistics.mean(len(record.value or b"") for _, record in built)
    return {
        "entries": n,
        "bytes_held": held,
        "bytes_per_entry": held / n,
        "stored_bytes_per_entry": statistics.mean(stored_sizes),
        "answer_value_bytes": value,
    }


# -- throughput --------------------------------------------------------------------------


async def memory_throughput(n: int, on: bool) -> tuple[float, float]:
    """Envelopes/s and this process's CPU µs per envelope (the whole host runs here)."""
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "echo_effect.yaml").write_text(EFFECT_NODE)
        contract = Path(tmp) / "host.yaml"
        contract.write_text(MEMORY_RUNTIME.format(on=str(on).lower()))
        url = f"memory://eo-{uuid.uuid4().hex}"
        overrides = {"web_enabled": False, "broker_url": url}
        host = build_host(contract, env={"ONEX_ENV": "test"}, bus_overrides=overrides)
        records = [inmemory.command(i, target="echo_effect") for i in range(n)]
        cpu = time.process_time()
        rate = await inmemory.drain(faust_app(host), url, records, inmemory.EVENT_TOPIC)
        return rate, (time.process_time() - cpu) / n * 1e6


def kafka_variant(on: bool) -> Any:
    async def start(bootstrap: str, tag: str, cmd: str, evt: str, tmp: Path) -> Any:
        (tmp / "echo_effect.yaml").write_text(EFFECT_NODE)
        config = {
            "bootstrap_servers": bootstrap,
            "topics": {"input": cmd},
            "partitions": kafka.PARTITIONS,
            "create_topics": True,  # the answers table's changelog
            "idempotence": False,  # tansu has no InitProducerId
            **kafka.GROUP_TIMEOUTS,
        }
        contract = tmp / "host.yaml"
        name = f"bench_eo_{tag}"
        contract.write_text(
            KAFKA_RUNTIME.format(name=name, config=kafka.json.dumps(config), on=str(on).lower())
        )
        overrides = {"web_enabled": False, "faust_options": {"datadir": str(tmp / "data")}}
        host = build_host(contract, env={"ONEX_ENV": "test"}, bus_overrides=overrides)
        return await kafka.start_faust(faust_app(host))

    return start


def throughput(n: int, rounds: int, *, tansu: bool) -> dict[str, list[float]]:
    """Interleaved rounds, feature off then on, on memory:// and (if ``tansu``) on tansu."""
    results: dict[str, list[float]] = {}
    kafka.VARIANTS.update({"table_off": kafka_variant(False), "table_on": kafka_variant(True)})
    broker = TansuBroker().start() if tansu else None
    try:
        for round_ in range(1, rounds + 1):
            for on in (False, True):
                label = f"memory:// {'on' if on else 'off'}"
                rate, cpu = asyncio.run(memory_throughput(n, on))
                results.setdefault(label, []).append(rate)
                results.setdefault(f"{label} cpu", []).append(cpu)
                log(f"  round {round_}: {label}: {rate:,.0f}/s, {cpu:.0f} µs CPU per envelope")
                if broker is not None:
                    label = f"tansu {'on' if on else 'off'}"
                    variant = "table_on" if on else "table_off"
                    rate, dup = asyncio.run(kafka.measure(variant, broker.bootstrap, n))
                    results.setdefault(label, []).append(rate)
                    log(f"  round {round_}: {label}: {rate:,.0f}/s ({dup} duplicates)")
    finally:
        if broker is not None:
            broker.stop()
    return results


# -- ledger ------------------------------------------------------------------------------


async def ledgers(n: int, kills: int) -> list[str]:
    broker = TansuBroker().start()
    server = EmbeddedPostgres.start()
    lines: list[str] = []
    workers: list[WorkerProcess] = []
    runs = [
        ("on_keyed", True, True, "answers table on, inserts keyed by envelope_id"),
        ("off_plain", False, False, "answers table off, plain inserts (no key)"),
        ("on_plain", True, False, "answers table on, plain inserts (no key)"),
    ]
    try:
        for tag, on, keyed, title in runs:
            dsn = await eo.create_schema(server.dsn, f"bench_{tag}", keyed=keyed)
            started = time.monotonic()
            with tempfile.TemporaryDirectory() as tmp:
                ledger = await eo.sigkill_run(
                    broker.bootstrap,
                    Path(tmp),
                    f"bench{tag.replace('_', '')}",
                    dsn,
                    commands=n,
                    kills=kills,
                    idempotent=on,
                    keyed=keyed,
                    workers=workers,
                    seconds=600,
                )
            lines += ledger.lines(f"{title}, {kills} x SIGKILL")
            lines.append(f"  ({time.monotonic() - started:.1f} s)")
            log("\n".join(lines[-6:]))
            for worker in workers:
                worker.stop()
    finally:
        for worker in workers:
            worker.stop()
        broker.stop()
        server.stop()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("parts", nargs="*", default=["memory", "throughput", "ledger"])
    parser.add_argument("-n", type=int, default=20_000, help="envelopes per throughput run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved throughput rounds")
    parser.add_argument("--no-tansu", action="store_true", help="throughput on memory:// only")
    parser.add_argument("--ledger-n", type=int, default=5000, help="inserts per SIGKILL run")
    parser.add_argument("--kills", type=int, default=3)
    args = parser.parse_args()
    if "memory" in args.parts:
        figures = memory_per_100k()
        print(
            f"answers table memory: {figures['bytes_held'] / 2**20:.1f} MiB per 100,000 "
            f"answers ({figures['bytes_per_entry']:.0f} B each: stored record "
            f"{figures['stored_bytes_per_entry']:.0f} B, of which answer value "
            f"{figures['answer_value_bytes']:.0f} B)"
        )
    if "throughput" in args.parts:
        results = throughput(args.n, args.rounds, tansu=not args.no_tansu)
        print(f"throughput, {args.n:,} envelopes, median of {args.rounds} interleaved rounds:")
        for label, values in results.items():
            unit = "µs CPU per envelope (start, stop included)" if "cpu" in label else "envelopes/s"
            rounded = [round(v) for v in values]
            print(f"  {label:20} {statistics.median(values):>9,.0f} {unit}  {rounded}")
        for where in ("memory://", "memory:// cpu", "tansu"):
            name, _, cpu = where.partition(" ")
            off = results.get(f"{name} off{' ' + cpu if cpu else ''}")
            on = results.get(f"{name} on{' ' + cpu if cpu else ''}")
            if off and on:
                ratio = statistics.median(on) / statistics.median(off)
                print(f"  {where}: on/off = {ratio:.2f}")
    if "ledger" in args.parts:
        print("\n".join(asyncio.run(ledgers(args.ledger_n, args.kills))))


if __name__ == "__main__":
    main()
