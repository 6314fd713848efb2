"""End-to-end throughput of the runtime host on a real Kafka-protocol broker (tansu).

Run: ``python tests/benchmarks/bench_kafka.py [-n N] [--rounds R]``. Prints figures;
asserts nothing. One tansu broker (memory storage, loopback) serves the whole run. Per
round the variants run interleaved, in this process, one worker each, on fresh topics
(4 partitions) and a fresh consumer group:

- host: the runtime host (kafka contract, ONEX_ENV=test, local handler, node echo_compute);
- bare: a bare Faust agent, ``async for value in stream`` and ``await topic.send`` per event;
- raw: an aiokafka loop: getmany -> send per record -> await the batch's acks -> commit.

How it is measured: N commands (~440-byte JSON envelopes, local.echo, keyed by
correlation_id) are produced before the variant starts. Start = the moment the variant's
consumer got its partitions (Faust's ``on_partitions_assigned`` signal, aiokafka's
rebalance listener): the group join is excluded. End = the moment a counting process
(aiokafka, no group, the event topic from the beginning; a process of its own so that it
takes no time from the variant's event loop) has seen N answers. Both are read on the
system-wide monotonic clock; throughput = N / (end - start). Once the variant stopped
(final commit), the counting process reads the event topic to its end: answers beyond N
are duplicates.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faust
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from onex_stream.bootstrap import build_host, faust_app
from tests.support.kafka import TansuBroker
from tests.support.kafka_clients import create_topics, produce

PARTITIONS = 4
NOTE = "x" * 40  # commands of ~440 bytes
# The kafka tests' group timeouts (a join takes ~3 s), for every variant.
GROUP_TIMEOUTS = {
    "session_timeout_ms": 3000,
    "heartbeat_interval_ms": 300,
    "rebalance_timeout_ms": 1000,
}
NODE = """\
schema_version: "1.0.0"
name: "echo_compute"
node_type: "COMPUTE"
io_operations: [{type: local, operations: ["local.echo"]}]
"""
RUNTIME = """\
schema_version: "2.0.0"
runtime:
  name: "{name}"
  event_bus: {{kind: kafka, config: {config}}}
  handlers: [{{type: local}}]
  nodes: [{{slug: echo_compute}}]
  nodes_dir: "."
"""
LABELS = {
    "host": "runtime host (local handler)",
    "bare": "bare Faust agent",
    "raw": "raw aiokafka loop",
}
Started = tuple[list[float], Callable[[], Awaitable[None]]]  # (assignment times, stop)


def command(n: int) -> tuple[bytes, bytes]:
    """Key and value of one ~440-byte local.echo command."""
    ids = {"envelope_id": str(uuid.uuid4()), "correlation_id": str(uuid.uuid4())}
    payload = {"order_id": n, "customer": "c-42", "items": [{"sku": "A-1", "qty": 2}], "note": NOTE}
    value = {
        **ids,
        "envelope_version": "1.0",
        "source_node": "bench",
        "target_node": "echo_compute",
        "handler_type": "local",
        "operation": "local.echo",
        "timestamp": "2030-01-01T00:00:00Z",
        "metadata": {},
        "payload": payload,
    }
    return ids["correlation_id"].encode(), json.dumps(value).encode()


def respond(value: bytes) -> tuple[bytes, bytes]:
    """The bare and raw variants' work per record: decode, build the answer, encode."""
    data = json.loads(value)
    answer = {
        **data,
        "envelope_id": str(uuid.uuid4()),
        "causation_id": data["envelope_id"],
        "source_node": data["target_node"],
        "target_node": data["source_node"],
        "timestamp": datetime.now(UTC).isoformat(),
        "is_response": True,
        "success": True,
    }
    return data["correlation_id"].encode(), json.dumps(answer).encode()


async def start_faust(app: faust.App) -> Started:
    assigned: list[float] = []

    def on_assigned(sender: Any, partitions: set[Any], **_: Any) -> None:
        if partitions:
            assigned.append(time.monotonic())

    app.on_partitions_assigned.connect(on_assigned)
    await app.start()
    return assigned, app.stop


async def start_host(bootstrap: str, tag: str, cmd: str, evt: str, tmp: Path) -> Started:
    (tmp / "echo_compute.yaml").write_text(NODE)
    config = {
        "bootstrap_servers": bootstrap,
        "topics": {"input": cmd},
        "partitions": PARTITIONS,
        "create_topics": False,
        "idempotence": False,  # tansu has no InitProducerId
        **GROUP_TIMEOUTS,
    }
    contract = tmp / "host.yaml"
    contract.write_text(RUNTIME.format(name=f"bench_host_{tag}", config=json.dumps(config)))
    overrides = {"web_enabled": False, "faust_options": {"datadir": str(tmp / "data")}}
    host = build_host(contract, env={"ONEX_ENV": "test"}, bus_overrides=overrides)
    return await start_faust(faust_app(host))


async def start_bare(bootstrap: str, tag: str, cmd: str, evt: str, tmp: Path) -> Started:
    app = faust.App(
        f"bench_bare_{tag}",
        broker=f"kafka://{bootstrap}",
        store="memory://",
        web_enabled=False,
        value_serializer="raw",
        key_serializer="raw",
        topic_partitions=PARTITIONS,
        topic_disable_leader=True,
        datadir=str(tmp / "data"),
        broker_session_timeout=GROUP_TIMEOUTS["session_timeout_ms"] / 1000,
        broker_heartbeat_interval=GROUP_TIMEOUTS["heartbeat_interval_ms"] / 1000,
        broker_rebalance_timeout=GROUP_TIMEOUTS["rebalance_timeout_ms"] / 1000,
    )
    source, sink = app.topic(cmd), app.topic(evt)

    @app.agent(source)
    async def echo(stream: Any) -> None:
        async for value in stream:
            key, answer = respond(value)
            await sink.send(key=key, value=answer)

    return await start_faust(app)


async def start_raw(bootstrap: str, tag: str, cmd: str, evt: str, tmp: Path) -> Started:
    assigned: list[float] = []

    class Listener(ConsumerRebalanceListener):  # type: ignore[misc]
        async def on_partitions_revoked(self, revoked: Any) -> None:
            pass

        async def on_partitions_assigned(self, partitions: Any) -> None:
            if partitions:
                assigned.append(time.monotonic())

    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=f"bench_raw_{tag}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        **GROUP_TIMEOUTS,
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    await consumer.start()
    consumer.subscribe([cmd], listener=Listener())
    stopping = asyncio.Event()

    async def loop() -> None:
        while not stopping.is_set():
            batches = await consumer.getmany(timeout_ms=100, max_records=500)
            answers = [respond(r.value) for records in batches.values() for r in records]
            sends = [await producer.send(evt, value, key=key) for key, value in answers]
            await asyncio.gather(*sends)  # every answer stored before the commit
            if sends:
                await consumer.commit()

    task = asyncio.create_task(loop())

    async def stop() -> None:
        stopping.set()
        await task
        await consumer.stop()
        await producer.stop()

    return assigned, stop


VARIANTS = {"host": start_host, "bare": start_bare, "raw": start_raw}


async def measure(variant: str, bootstrap: str, n: int) -> tuple[float, int]:
    """Throughput (envelopes/s) and duplicates of one variant on fresh topics and group."""
    tag = f"{variant}{uuid.uuid4().hex[:8]}"
    cmd, evt, err = (f"onex.{tag}.orders.{signal}.v1" for signal in ("cmd", "evt", "error"))
    await create_topics(bootstrap, [cmd, evt, err], PARTITIONS)
    keys, values = zip(*(command(i) for i in range(n)), strict=True)
    await produce(bootstrap, cmd, list(values), list(keys))
    counter = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--count-answers",
        bootstrap,
        evt,
        str(n),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert counter.stdin is not None and counter.stdout is not None
    try:
        await asyncio.wait_for(counter.stdout.readline(), 60)  # "ready"
        with tempfile.TemporaryDirectory() as tmp:
            assigned, stop = await VARIANTS[variant](bootstrap, tag, cmd, evt, Path(tmp))
            try:
                end = float(await asyncio.wait_for(counter.stdout.readline(), 600))
            finally:
                await stop()  # final commit: every answer is on the topic now
        counter.stdin.close()
        line = await asyncio.wait_for(counter.stdout.readline(), 60)
        total, distinct = map(int, line.split())
    finally:
        if counter.returncode is None:
            counter.kill()
        await counter.wait()
    if len(assigned) != 1:
        log(f"    {variant}: {len(assigned)} assignments")
    if distinct != n:
        log(f"    {variant}: {n - distinct} envelopes unanswered")
    return n / (end - assigned[0]), total - n


async def count_answers(bootstrap: str, topic: str, n: int) -> None:
    """(Counting process.) Print "ready", then the time N answers were seen, then (once
    stdin is closed) how many answers and distinct envelopes answered the topic holds.

    Counted by reading the topic to its end, not from its end offsets, which tansu 0.6
    under-reports after multi-record batches.
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    for partition in partitions:
        await consumer.position(partition)
    print("ready", flush=True)
    answers: list[bytes] = []
    while len(answers) < n:
        answers += [r.value for rs in (await consumer.getmany(timeout_ms=100)).values() for r in rs]
    print(time.monotonic(), flush=True)
    await asyncio.to_thread(sys.stdin.read)
    while batch := await consumer.getmany(timeout_ms=1000):
        answers += [r.value for records in batch.values() for r in records]
    distinct = {json.loads(value)["causation_id"] for value in answers}
    print(len(answers), len(distinct), flush=True)
    await consumer.stop()


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20_000, help="envelopes per run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    parser.add_argument("--broker-log", type=Path, help="write tansu's log to this file")
    parser.add_argument("--count-answers", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.count_answers:
        bootstrap, topic, n = args.count_answers
        asyncio.run(count_answers(bootstrap, topic, int(n)))
        return
    broker = TansuBroker(log_path=args.broker_log).start()
    results: dict[str, list[tuple[float, int]]] = {variant: [] for variant in VARIANTS}
    try:
        for round_ in range(1, args.rounds + 1):
            for variant, runs in results.items():
                log(f"  round {round_}: {variant}...")
                runs.append(asyncio.run(measure(variant, broker.bootstrap, args.n)))
                log(f"    {runs[-1][0]:,.0f} envelopes/s, {runs[-1][1]} duplicates")
    finally:
        broker.stop()
    report(args, results)


def report(args: argparse.Namespace, results: dict[str, list[tuple[float, int]]]) -> None:
    """Print the figures."""
    rates = {variant: [rate for rate, _ in runs] for variant, runs in results.items()}
    print(
        f"tansu broker (memory storage), {PARTITIONS} partitions, one worker, {args.n} "
        f"envelopes of ~440 bytes, median of {args.rounds} interleaved rounds"
    )
    for variant, label in LABELS.items():
        runs = [round(r) for r in rates[variant]]
        duplicates = [d for _, d in results[variant]]
        median = statistics.median(rates[variant])
        print(f"  {label:30s}{median:10,.0f} envelopes/s  {runs}  duplicates {duplicates}")
    for other in ("bare", "raw"):
        ratio = statistics.median(rates["host"]) / statistics.median(rates[other])
        per_round = [round(h / o, 2) for h, o in zip(rates["host"], rates[other], strict=True)]
        print(f"  ratio host / {other:4s}             {ratio:10.2f}x  per round {per_round}")


if __name__ == "__main__":
    main()
