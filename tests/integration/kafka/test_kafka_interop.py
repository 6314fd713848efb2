"""Any Kafka client in, plain JSON out: kcat and aiokafka against a real broker."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.integration.kafka.conftest import ContractFactory
from tests.support.kafka import TansuBroker
from tests.support.kafka_clients import AnswerReader, command, create_topics, produce
from tests.support.tcp_proxy import free_port
from tests.support.workers import WorkerProcess

KCAT = shutil.which("kcat") or shutil.which("kafkacat")
needs_kcat = pytest.mark.skipif(KCAT is None, reason="kcat is not installed (CI installs it)")


def kcat(*args: str, stdin: str | None = None) -> str:
    assert KCAT is not None
    result = subprocess.run(
        [KCAT, *args], input=stdin, capture_output=True, text=True, timeout=30, check=True
    )
    return result.stdout


@needs_kcat
async def test_kcat_commands_are_answered_and_kcat_reads_plain_json(
    kafka: TansuBroker, contract: ContractFactory, workers: list[WorkerProcess]
) -> None:
    path = contract(kafka.bootstrap, group="interop-kcat", domain="kcat")
    worker = WorkerProcess(path).start()
    workers.append(worker)
    worker.wait_ready()
    commands = [command(n) for n in range(3)]
    lines = "".join(f"{c['correlation_id']}\t{json.dumps(c)}\n" for c in commands)
    kcat("-b", kafka.bootstrap, "-P", "-t", "onex.kcat.orders.cmd.v1", "-K", "\t", stdin=lines)
    out = kcat(
        "-b",
        kafka.bootstrap,
        "-C",
        "-t",
        "onex.kcat.orders.evt.v1",
        "-o",
        "beginning",
        "-c",
        "3",
        "-f",
        "%k\t%s\n",
    )
    answers = [line.split("\t", 1) for line in out.splitlines()]
    by_cause = {
        json.loads(value)["causation_id"]: (key, json.loads(value)) for key, value in answers
    }
    for sent in commands:
        key, response = by_cause[sent["envelope_id"]]
        assert key == sent["correlation_id"] == response["correlation_id"]
        assert response["success"] is True and response["payload"] == sent["payload"]


@needs_kcat
async def test_undecodable_records_reach_the_dead_letter_topic_with_their_bytes(
    kafka: TansuBroker, contract: ContractFactory, workers: list[WorkerProcess]
) -> None:
    path = contract(kafka.bootstrap, group="interop-dlq", domain="dlq")
    worker = WorkerProcess(path).start()
    workers.append(worker)
    worker.wait_ready()
    kcat("-b", kafka.bootstrap, "-P", "-t", "onex.dlq.orders.cmd.v1", stdin="not json at all\n")
    out = kcat(
        "-b",
        kafka.bootstrap,
        "-C",
        "-t",
        "onex.dlq.orders.error.v1",
        "-o",
        "beginning",
        "-c",
        "1",
        "-f",
        "%s\t%h\n",
    )
    value, headers = out.rstrip("\n").split("\t", 1)
    assert value == "not json at all"
    assert "onex-dlq-reason=record value is not JSON" in headers
    assert "onex-dlq-topic=onex.dlq.orders.cmd.v1" in headers


async def test_aiokafka_commands_are_answered_once_each(
    kafka: TansuBroker, contract: ContractFactory, workers: list[WorkerProcess]
) -> None:
    await create_topics(
        kafka.bootstrap, [f"onex.aio.orders.{s}.v1" for s in ("cmd", "evt", "error")], 4
    )
    path = contract(kafka.bootstrap, group="interop-aio", domain="aio", create_topics=False)
    worker = WorkerProcess(path).start()
    workers.append(worker)
    worker.wait_ready()
    commands = [command(n) for n in range(200)]
    await produce(
        kafka.bootstrap,
        "onex.aio.orders.cmd.v1",
        [json.dumps(c).encode() for c in commands],
        [c["correlation_id"].encode() for c in commands],
    )
    async with AnswerReader(kafka.bootstrap, "onex.aio.orders.evt.v1") as reader:
        await reader.read_until({c["envelope_id"] for c in commands}, seconds=30)
    assert reader.duplicates == 0


async def test_missing_topics_stop_the_start_naming_them(
    kafka: TansuBroker, contract: ContractFactory
) -> None:
    path = contract(kafka.bootstrap, group="no-topics", domain="absent", create_topics=False)
    worker = WorkerProcess(path).start()
    try:
        code = worker.wait(timeout=60)
    finally:
        worker.stop()
    assert code != 0
    assert "missing topics" in worker.output
    assert (
        "onex.absent.orders.cmd.v1, onex.absent.orders.evt.v1, onex.absent.orders.error.v1"
        in worker.output
    )
    assert f"cannot start: {path}:6: missing topics" in worker.output
    assert "Traceback" not in worker.output


def run_to_exit(path: Path) -> tuple[int, str]:
    worker = WorkerProcess(path).start()
    try:
        code = worker.wait(timeout=60)
    finally:
        worker.stop()
    return code, worker.output


async def test_an_unreachable_broker_stops_the_start_after_the_startup_window_in_one_line(
    contract: ContractFactory,
) -> None:
    """Before: a traceback. After: bounded retries, then the address and the setting."""
    bootstrap = f"127.0.0.1:{free_port()}"  # nothing listens there
    path = contract(
        bootstrap,
        group="unreachable",
        domain="nobroker",
        create_topics=False,
        extra="      startup_timeout_seconds: 1.5\n",
    )
    code, output = run_to_exit(path)
    assert code != 0
    assert f"cannot start: {path}:6: cannot reach Kafka at {bootstrap}" in output
    assert "event_bus.config.startup_timeout_seconds" in output
    assert "Traceback" not in output


async def test_a_broker_without_idempotent_producers_names_the_setting_to_change(
    kafka: TansuBroker, contract: ContractFactory
) -> None:
    """tansu has no InitProducerId: before, the start ended in ``UnknownError()``."""
    path = contract(kafka.bootstrap, group="idempotent", domain="idem", create_topics=True)
    path.write_text(path.read_text().replace("idempotence: false", "idempotence: true"))
    code, output = run_to_exit(path)
    assert code != 0
    assert "set event_bus.config.idempotence: false" in output
    assert "cannot start:" in output
    assert "Traceback" not in output
