"""``python -m onex_stream.cli.kafka_demo`` (``make kafka-demo``): a first Kafka run, one command.

Starts the bundled Kafka-protocol broker (tansu) on a free port, creates the topics of
``contracts/runtime/kafka_demo_host.yaml`` with an admin client, runs the worker
(``faust -A onex_stream worker``), produces the sample commands (and records that are
not envelopes) with an ordinary Kafka client, prints every answer and dead letter and
the status page address, and stops everything it started, also on Ctrl-C. Dev only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from aiokafka.errors import KafkaError

from onex_stream.cli.dev_only import refuses_prod
from onex_stream.core.contracts import ModelRuntimeSection, load_runtime_contract
from onex_stream.core.errors import RuntimeHostError
from onex_stream.devtools.kafka_samples import collect, create_topics, expected_outcome, produce
from onex_stream.devtools.tansu import Tansu, free_port
from onex_stream.devtools.worker import WorkerProcess

ROOT = Path(__file__).resolve().parents[2]  # the source tree, wherever it is run from
CONTRACT = ROOT / "contracts" / "runtime" / "kafka_demo_host.yaml"
SAMPLES = ROOT / "contracts" / "samples" / "demo_commands.jsonl"
READY_SECONDS = 60.0
ANSWER_SECONDS = 30.0
#: Beyond the contract's shutdown_timeout_seconds: the worker's own stop deadline margin.
STOP_MARGIN_SECONDS = 10.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def main(argv: list[str] | None = None) -> int:
    """Run the Kafka demo; returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m onex_stream.cli.kafka_demo",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--linger", type=float, default=0, help="keep serving N seconds")
    parser.add_argument("--json", action="store_true", help="print the full envelopes")
    args = parser.parse_args(argv)
    if refuses_prod("the Kafka demo"):
        return 1
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="onex-kafka-demo-"))
    broker: Tansu | None = None
    worker: WorkerProcess | None = None
    # Ctrl-C and SIGTERM alike stop what the demo started (even if started with SIGINT ignored)
    previous = {sig: signal.signal(sig, signal.default_int_handler) for sig in STOP_SIGNALS}
    keep_logs = True
    grace = 30.0
    try:
        print("starting the Kafka-protocol broker (tansu)...", file=sys.stderr)
        broker = Tansu.start(log=workdir / "broker.log")
        env = {**os.environ, "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap}
        runtime = load_runtime_contract(CONTRACT, env=env).runtime
        grace = runtime.shutdown_timeout_seconds + STOP_MARGIN_SECONDS
        worker_env = {**env, "ONEX_LOG_FORMAT": "human"}
        worker = WorkerProcess(CONTRACT, worker_env, free_port(), workdir / "worker.log")
        asyncio.run(_run(broker, worker, runtime, args.linger, args.json))
        keep_logs = False
        print(f"done in {time.monotonic() - started:.1f} s", file=sys.stderr)
        return 0
    except KeyboardInterrupt:
        print("interrupted: stopping the worker and the broker", file=sys.stderr)
        keep_logs = False
        return 130
    except (RuntimeError, TimeoutError, OSError, KafkaError, RuntimeHostError) as error:
        message = error.message if isinstance(error, RuntimeHostError) else str(error)
        print(f"kafka demo failed: {message or type(error).__name__}", file=sys.stderr)
        if worker is not None and (tail := worker.log_tail()):
            print(f"worker log ({worker.log}), last lines:\n{tail}", file=sys.stderr)
        return 1
    finally:
        _stop_all(worker, broker, grace)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if keep_logs:
            print(f"logs kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)


async def _run(
    broker: Tansu, worker: WorkerProcess, runtime: ModelRuntimeSection, linger: float, full: bool
) -> None:
    """Create the topics, run the worker, feed it, print what came back."""
    route = runtime.subscriptions[0]
    config = runtime.event_bus.config
    topics = [route.input, route.event_topic, route.dead_letter_topic]
    await create_topics(broker.bootstrap, topics, config.partitions)
    print(f"broker: {broker.bootstrap}; topics created: {', '.join(topics)}", file=sys.stderr)
    print("starting the worker: faust -A onex_stream worker ...", file=sys.stderr)
    worker.start()
    await worker.wait_ready(READY_SECONDS)
    print(f"status page: {worker.address}/status  (metrics: /metrics, ready: /health/ready)")
    lines = [line.encode() for line in SAMPLES.read_text().splitlines() if line.strip()]
    await produce(broker.bootstrap, route.input, lines)
    expected = expected_outcome(lines, config.max_envelope_bytes)
    outcome = await collect(broker.bootstrap, route, config.partitions, expected, ANSWER_SECONDS)
    print(
        f"{len(lines)} records produced to {route.input}: {len(outcome.answers)} answers on "
        f"{route.event_topic}, {len(outcome.dead_letters)} dead letters on "
        f"{route.dead_letter_topic}"
    )
    print("answers (in input order; each keyed by its correlation_id):")
    for record in sorted(outcome.answers, key=lambda r: _input_index(lines, r.value, True)):
        print(record.value.decode() if full else _answer_line(record))
    print("dead letters (original key and bytes, onex-dlq-* headers):")
    for record in sorted(outcome.dead_letters, key=lambda r: _input_index(lines, r.value, False)):
        print(_dead_letter_line(record))
    if linger:
        print(f"serving the status page for {linger:g} s (Ctrl-C stops)...", file=sys.stderr)
        await asyncio.sleep(linger)


def _input_index(lines: list[bytes], value: bytes | None, answer: bool) -> int:
    """Where the command behind an answer (its causation_id) or a dead letter was sent."""
    if not answer:
        return lines.index(value) if value in lines else len(lines)
    cause = json.loads(value or b"{}").get("causation_id")
    return next((i for i, line in enumerate(lines) if cause and cause.encode() in line), len(lines))


def _answer_line(record: Any) -> str:
    answer = json.loads(record.value)
    key = record.key.decode() if record.key else "-"
    where = f"{answer['source_node']:<16} {answer.get('operation') or '-':<16}"
    if answer["success"]:
        return f"  ok     {where} key={key}  {json.dumps(answer['payload'])[:50]}"
    error = answer["error"]
    return f"  error  {where} key={key}  {error['code']}: {error['message'][:40]}"


def _dead_letter_line(record: Any) -> str:
    headers = {name: value.decode(errors="replace") for name, value in record.headers}
    origin = f"{headers.get('onex-dlq-partition')}@{headers.get('onex-dlq-offset')}"
    value = (record.value or b"").decode(errors="replace")
    reason = headers.get("onex-dlq-reason", "")[:60]
    return f"  from partition@offset {origin:<5} {reason}  value={value[:24]!r}"


def _stop_all(worker: WorkerProcess | None, broker: Tansu | None, grace: float) -> None:
    """Stop the worker (graceful drain), then the broker; ignore further Ctrl-C meanwhile."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        if worker is not None:
            code = worker.stop(grace)
            if code not in (None, 0):
                print(f"the worker exited with code {code}", file=sys.stderr)
        if broker is not None:
            broker.stop()
    finally:
        signal.signal(signal.SIGINT, previous)


if __name__ == "__main__":
    sys.exit(main())
