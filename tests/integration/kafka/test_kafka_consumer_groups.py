"""Consumer groups on a real broker: two workers share partitions; SIGKILL loses nothing."""

from __future__ import annotations

import json
import re
import signal

from tests.integration.kafka.conftest import ContractFactory
from tests.support.kafka import TansuBroker
from tests.support.kafka_clients import AnswerReader, command, create_topics, produce
from tests.support.workers import WorkerProcess

TOPICS = [f"onex.groups.orders.{signal}.v1" for signal in ("cmd", "evt", "error")]


def assignment(worker: WorkerProcess, after: int = 0) -> set[int]:
    """Partitions of the first assignment logged at or after line ``after``."""
    line = worker.lines[worker.wait_for("Setting newly assigned partitions", after=after)]
    pattern = r"topic='onex\.groups\.orders\.cmd\.v1', partition=(\d+)"
    return {int(p) for p in re.findall(pattern, line)}


def latest_assignment(worker: WorkerProcess) -> set[int]:
    """Partitions of the worker's most recent assignment."""
    starts = [i for i, line in enumerate(worker.lines) if "Setting newly assigned" in line]
    return assignment(worker, after=starts[-1]) if starts else set()


async def test_two_workers_split_partitions_and_a_killed_one_loses_nothing(
    kafka: TansuBroker, contract: ContractFactory, workers: list[WorkerProcess]
) -> None:
    await create_topics(kafka.bootstrap, TOPICS, partitions=8)
    path = contract(
        kafka.bootstrap, group="groups", domain="groups", partitions=8, create_topics=False
    )
    first, second = WorkerProcess(path).start(), WorkerProcess(path).start()
    workers += [first, second]
    first.wait_ready()
    second.wait_ready()
    commands = [command(n, payload={"n": n, "delay_ms": 2}) for n in range(5000)]
    values = [json.dumps(c).encode() for c in commands]
    keys = [c["correlation_id"].encode() for c in commands]
    expected = {c["envelope_id"] for c in commands}
    async with AnswerReader(kafka.bootstrap, TOPICS[1]) as reader:
        await produce(kafka.bootstrap, TOPICS[0], values[:2500], keys[:2500])
        await reader.read_at_least(1000, seconds=60)
        split = latest_assignment(first), latest_assignment(second)
        mark = len(second.lines)
        first.signal(signal.SIGKILL)
        await produce(kafka.bootstrap, TOPICS[0], values[2500:], keys[2500:])
        await reader.read_until(expected, seconds=120)
    assert expected <= set(reader.answers)  # nothing lost
    print(f"\n5000 envelopes, 1 worker SIGKILLed: {reader.duplicates} duplicate answers")
    assert split[0] and split[1] and split[0] | split[1] == set(range(8))
    assert not split[0] & split[1]
    assert assignment(second, after=mark) == set(range(8))
