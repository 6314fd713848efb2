"""Throughput, CPU and peak RSS of the runtime host on tansu, beside Faust agents and aiokafka.

Run: ``python -m tests.benchmarks.bench_kafka [-n N] [--rounds R] [--quick]``. Prints
figures; asserts nothing. One tansu broker (memory storage, loopback) serves the whole
run. Per round the variants run interleaved (each round starts one variant later), each
in a process of its own, one worker each, on fresh topics (4 partitions) and a fresh
consumer group:

- host: the runtime host (kafka contract, ONEX_ENV=test, local handler, node echo_compute),
  run as a worker process runs it (``worker_process_app``);
- bare: a bare Faust agent, ``async for value in stream`` and ``await topic.send`` per event;
- tuned: a batched Faust agent, strict at-least-once: ``stream.noack_take(1000,
  within=0.01)``, each batch produced through ``app.producer.send`` (a future per
  record), all the batch's futures awaited, then ``await stream.ack(event)`` per event;
  Faust's Monitor sensor removed, the root logger's level restored after the start;
- raw: an aiokafka loop: getmany -> send per record -> await the batch's acks -> commit;
- quix: a Quix Streams application (librdkafka), the bare agents' work in one ``apply``,
  ``to_topic``, at-least-once with its default 5 s commits (``quix_variant``; served by
  ``.venv-quix``, which ``make bench`` makes, and left out without it).

How it is measured: N commands (~440-byte JSON envelopes, local.echo, keyed by
correlation_id) are produced before the variant starts. Start = the moment the variant's
consumer got its partitions (Faust's ``on_partitions_assigned`` signal, aiokafka's
rebalance listener, Quix's assign callback): the group join is excluded. End = the
moment a counting process (aiokafka, no group, the event topic from the beginning) has
seen answers to N distinct commands (or, if some are never answered, the last new one
before 20 s without any).
Both are read on the system-wide monotonic clock; throughput = answered / (end - start).
The variant's process reports its CPU time from assignment to end (over N: service CPU
µs per envelope) and its peak RSS (VmHWM). Once the variant stopped (final commit), the
counting process reads the event topic to its end: answers beyond one per command are
duplicates, commands without an answer are lost.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition

from tests.benchmarks.common import (
    PARTITIONS,
    REPO,
    Mark,
    Run,
    app_options,
    bare_app,
    causation_id,
    commands,
    interleaved,
    on_assignment,
    paired_ratios,
    peak_rss_mib,
    ratio_line,
    respond,
    run_line,
)

if TYPE_CHECKING:
    import faust

# A variant's process imports only what the variant uses (its peak RSS is measured):
# faust, onex_stream and the test clients are imported where needed.
# Used by bench_effectively_once and bench_scale_out.
__all__ = [
    "GROUP_TIMEOUTS",
    "NODE",
    "PARTITIONS",
    "RUNTIME",
    "VARIANTS",
    "json",
    "log",
    "measure",
    "start_faust",
]
# The kafka tests' group timeouts (a join takes ~3 s), for every variant.
GROUP_TIMEOUTS = {
    "session_timeout_ms": 3000,
    "heartbeat_interval_ms": 300,
    "rebalance_timeout_ms": 1000,
}
STALL_SECONDS = 20.0  # the counting process gives up on missing answers after this
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
    "tuned": "tuned batched Faust agent",
    "raw": "raw aiokafka loop",
    "quix": "Quix Streams (librdkafka)",
}
#: The interpreter serving the Quix Streams variant (``make bench`` makes it); without it,
#: that variant is left out of the run.
QUIX_PYTHON = REPO / ".venv-quix" / "bin" / "python"
THIS_MODULE = (sys.executable, "-m", "tests.benchmarks.bench_kafka")  # its other roles
GOALS = {"tuned": "  (goal >= 1.15)", "quix": "  (stretch >= 0.5)"}
Started = tuple[list[Mark], Callable[[], Awaitable[None]]]  # (assignment marks, stop)
Starter = Callable[[str, str, str, str, Path], Awaitable[Started]]


# -- the variants -------------------------------------------------------------------------


async def start_faust(app: faust.App) -> Started:
    """Start ``app``; its assignment marks fill as partitions are assigned."""
    marks = on_assignment(app)
    await app.start()
    return marks, app.stop


def faust_options(bootstrap: str, tmp: Path) -> dict[str, Any]:
    return app_options(
        f"kafka://{bootstrap}",
        tmp / "data",
        broker_session_timeout=GROUP_TIMEOUTS["session_timeout_ms"] / 1000,
        broker_heartbeat_interval=GROUP_TIMEOUTS["heartbeat_interval_ms"] / 1000,
        broker_rebalance_timeout=GROUP_TIMEOUTS["rebalance_timeout_ms"] / 1000,
    )


async def start_host(bootstrap: str, tag: str, cmd: str, evt: str, tmp: Path) -> Started:
    from onex_stream.bootstrap import build_host, worker_process_app  # noqa: PLC0415 -- see above

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
    return await start_faust(worker_process_app(host))  # as `faust worker` runs it


async def start_bare(bootstrap: str, tag: str, cmd: str, evt: str, tmp: Path) -> Started:
    import faust  # noqa: PLC0415 -- see above

    return await start_faust(
        bare_app(faust.App, f"bench_bare_{tag}", cmd, evt, faust_options(bootstrap, tmp))
    )


def tuned_app(name: str, options: dict[str, Any]) -> faust.App:
    """A Faust app without the Monitor sensor (its figures go unused)."""
    import faust  # noqa: PLC0415 -- see above

    class TunedApp(faust.App):
        async def on_start(self) -> None:
            await super().on_start()
            self.sensors.remove(self.monitor)

    return TunedApp(name, **options)


async def start_tuned(bootstrap: str, tag: str, cmd: str, evt: str, tmp: Path) -> Started:
    app = tuned_app(f"bench_tuned_{tag}", faust_options(bootstrap, tmp))

    @app.agent(app.topic(cmd))
    async def echo(stream: Any) -> None:
        async for events in stream.noack_take(1000, within=0.01):
            answers = [respond(event.value) for event in events]
            sends = [await app.producer.send(evt, k, v, None, None, None) for k, v in answers]
            await asyncio.gather(*sends)  # every answer stored before any ack
            for event in events:
                await stream.ack(event)

    level = logging.getLogger().level
    started = await start_faust(app)
    logging.getLogger().setLevel(level)
    return started


async def start_raw(bootstrap: str, tag: str, cmd: str, evt: str, tmp: Path) -> Started:
    marks: list[Mark] = []

    class Listener(ConsumerRebalanceListener):  # type: ignore[misc]
        async def on_partitions_revoked(self, revoked: Any) -> None:
            pass

        async def on_partitions_assigned(self, partitions: Any) -> None:
            if partitions:
                marks.append(Mark.now())

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

    return marks, stop


VARIANTS: dict[str, Starter] = {
    "host": start_host,
    "bare": start_bare,
    "tuned": start_tuned,
    "raw": start_raw,
}
# variants registered later (bench_effectively_once) run in process
OWN_PROCESS = {*VARIANTS, "quix"}


# -- serving one variant --------------------------------------------------------------------


async def serve(variant: str, topics: list[str], until: Awaitable[Any]) -> dict[str, Any]:
    """Run ``variant`` (``topics``: bootstrap, tag, command, event) until ``until`` is done;
    its assignment times, CPU seconds from assignment to then, and peak RSS (MiB)."""
    bootstrap, tag, cmd, evt = topics
    with tempfile.TemporaryDirectory() as tmp:
        marks, stop = await VARIANTS[variant](bootstrap, tag, cmd, evt, Path(tmp))
        try:
            await until
            done = Mark.now()
        finally:
            await stop()  # final commit: every answer is on the topic now
    return {
        "assigned": [mark.at for mark in marks],
        "cpu_seconds": done.cpu - marks[0].cpu,
        "rss_mib": peak_rss_mib(),
    }


async def serve_child(variant: str, topics: list[str]) -> None:
    """(Variant process.) Serve until stdin has a line, then print the figures as JSON."""
    figures = await serve(variant, topics, asyncio.to_thread(sys.stdin.readline))
    print(json.dumps(figures), flush=True)


async def serve_in_child(variant: str, topics: list[str], end: Awaitable[Any]) -> dict[str, Any]:
    """Serve ``variant`` in a process of its own until ``end`` is done."""
    child = await spawn(*serving(variant), *topics)
    try:
        await end
        child.stdin.write(b"stop\n")  # type: ignore[union-attr]
        line = await asyncio.wait_for(child.stdout.readline(), 120)  # type: ignore[union-attr]
        figures: dict[str, Any] = json.loads(line)
        return figures
    finally:
        if child.returncode is None:
            child.kill()
        await child.wait()


def serving(variant: str) -> list[str]:
    """The command serving ``variant`` in a process of its own (topics follow)."""
    if variant == "quix":
        return [str(QUIX_PYTHON), "-m", "tests.benchmarks.quix_variant"]
    return [*THIS_MODULE, "--serve", variant]


async def spawn(*command: str) -> asyncio.subprocess.Process:
    """``command`` in a process of its own, talking through stdin and stdout."""
    return await asyncio.create_subprocess_exec(
        *command,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=REPO,
    )


# -- counting answers -----------------------------------------------------------------------


async def count_answers(bootstrap: str, topic: str, n: int) -> None:
    """(Counting process.) Print "ready"; then the time answers to N distinct commands
    were seen (or the last new one before STALL_SECONDS without any) and how many were;
    then, once stdin is closed, how many answers and answered commands the topic holds.

    Counted by reading the topic to its end, not from its end offsets, which tansu 0.6
    under-reports after multi-record batches. Distinct keys (correlation_ids) are counted
    while timing; causation_ids at the end.
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
    keys: set[bytes | None] = set()
    last = time.monotonic()
    while len(keys) < n and time.monotonic() - last < (STALL_SECONDS if keys else 120):
        records = [r for rs in (await consumer.getmany(timeout_ms=100)).values() for r in rs]
        answers += [r.value for r in records]
        seen = len(keys)
        keys.update(r.key for r in records)
        if len(keys) > seen:
            last = time.monotonic()
    print(last, len(keys), flush=True)
    await asyncio.to_thread(sys.stdin.read)
    while batch := await consumer.getmany(timeout_ms=1000):
        answers += [r.value for records in batch.values() for r in records]
    print(len(answers), len({causation_id(value) for value in answers}), flush=True)
    await consumer.stop()


class Counter:
    """The counting process, seen from the measuring one."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.stdout: asyncio.StreamReader = process.stdout  # type: ignore[assignment]

    @classmethod
    async def start(cls, bootstrap: str, topic: str, n: int) -> Counter:
        counter = cls(await spawn(*THIS_MODULE, "--count-answers", bootstrap, topic, str(n)))
        await asyncio.wait_for(counter.stdout.readline(), 60)  # "ready"
        return counter

    async def end(self) -> tuple[float, int]:
        """When answers to N distinct commands (or all there were) were seen, and how many."""
        end, answered = (await asyncio.wait_for(self.stdout.readline(), 900)).split()
        return float(end), int(answered)

    async def totals(self) -> tuple[int, int]:
        """Answers on the topic and distinct commands answered, after the variant stopped."""
        self.process.stdin.close()  # type: ignore[union-attr]
        total, distinct = (await asyncio.wait_for(self.stdout.readline(), 60)).split()
        return int(total), int(distinct)

    async def close(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
        await self.process.wait()


# -- measuring --------------------------------------------------------------------------------


async def measure_run(variant: str, bootstrap: str, n: int) -> Run:
    """One variant on fresh topics and group: throughput, CPU, peak RSS, duplicates, lost."""
    from tests.support.kafka_clients import create_topics, produce  # noqa: PLC0415 -- see above

    tag = f"{variant}{uuid.uuid4().hex[:8]}"
    cmd, evt, err = (f"onex.{tag}.orders.{signal}.v1" for signal in ("cmd", "evt", "error"))
    await create_topics(bootstrap, [cmd, evt, err], PARTITIONS)
    keys, values = zip(*commands(n), strict=True)
    await produce(bootstrap, cmd, list(values), list(keys))
    counter = await Counter.start(bootstrap, evt, n)
    try:
        end = asyncio.ensure_future(counter.end())
        topics = [bootstrap, tag, cmd, evt]
        if variant in OWN_PROCESS:
            figures = await serve_in_child(variant, topics, end)
        else:
            figures = await serve(variant, topics, end)
        (end_at, answered), (total, distinct) = end.result(), await counter.totals()
    finally:
        await counter.close()
    if len(figures["assigned"]) != 1:
        log(f"    {variant}: {len(figures['assigned'])} assignments")
    return Run(
        rate=answered / (end_at - figures["assigned"][0]),
        cpu_us=figures["cpu_seconds"] / n * 1e6,
        rss_mib=figures["rss_mib"] if variant in OWN_PROCESS else None,
        duplicates=total - distinct,
        lost=n - distinct,
    )


async def measure(variant: str, bootstrap: str, n: int) -> tuple[float, int]:
    """Envelopes/s and duplicates of one variant (the form bench_effectively_once uses)."""
    run = await measure_run(variant, bootstrap, n)
    return run.rate, run.duplicates


# -- the command line -------------------------------------------------------------------------


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, help="envelopes per run (20,000; --quick 2,000)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (3; --quick 1)")
    parser.add_argument("--quick", action="store_true", help="small N, one round")
    parser.add_argument("--broker-log", type=Path, help="write tansu's log to this file")
    parser.add_argument("--count-answers", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--serve", nargs=5, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.n = args.n or (2_000 if args.quick else 20_000)
    args.rounds = args.rounds or (1 if args.quick else 3)
    return args


def main() -> None:
    args = parse_args()
    if args.count_answers:
        bootstrap, topic, n = args.count_answers
        asyncio.run(count_answers(bootstrap, topic, int(n)))
        return
    if args.serve:
        asyncio.run(serve_child(args.serve[0], args.serve[1:]))
        return
    from tests.support.kafka import TansuBroker  # noqa: PLC0415 -- see above

    variants = list(LABELS)
    if not QUIX_PYTHON.exists():
        variants.remove("quix")
        log(f"  Quix Streams left out: no {QUIX_PYTHON.relative_to(REPO)} (make bench makes it)")
    broker = TansuBroker(log_path=args.broker_log).start()
    try:
        results = interleaved(
            variants,
            lambda name: asyncio.run(measure_run(name, broker.bootstrap, args.n)),
            args.rounds,
            log,
        )
    finally:
        broker.stop()
    report(args, results)


def report(args: argparse.Namespace, results: dict[str, list[Run]]) -> None:
    """Print the figures."""
    print(
        f"tansu broker (memory storage), {PARTITIONS} partitions, one worker per variant in a "
        f"process of its own, {args.n:,} envelopes of ~440 bytes, median of {args.rounds} "
        "interleaved rounds"
    )
    others = [name for name in LABELS if name in results and name != "host"]
    for name in ["host", *others]:
        runs, label = results[name], LABELS[name]
        rss = statistics.median(r.rss_mib or 0 for r in runs)
        duplicates, lost = [r.duplicates for r in runs], [r.lost for r in runs]
        print(f"{run_line(label, runs)}  {rss:5.0f} MiB  dup {duplicates} lost {lost}")
    host = results["host"]
    for other in others:
        rates = paired_ratios((r.rate for r in host), (r.rate for r in results[other]))
        print(ratio_line(f"host / {other} (throughput)", rates))
    for other in others:
        cpu = paired_ratios((r.cpu_us for r in results[other]), (r.cpu_us for r in host))
        print(ratio_line(f"{other} CPU / host CPU per envelope", cpu) + GOALS.get(other, ""))


if __name__ == "__main__":
    main()
