"""Effectively-once side effects on memory://: a replayed command never runs twice.

An EFFECT node's answers are remembered by envelope_id in a changelog-backed table: a
command delivered again (a restart from an uncommitted offset, or re-sent with the same
envelope_id) gets the stored answer, byte for byte, and its handler is not called.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from onex_stream.core.enums import EnumHandlerType
from onex_stream.infra.event_bus.memory import MemoryBroker, Record, get_broker
from tests.support.contracts import write_contract
from tests.support.counting_handler import CountingLocalHandler
from tests.support.deterministic import DeterministicClock, DeterministicIds
from tests.support.hosts import RunningHost, running_host

CMD = "onex.test.answers.cmd.v1"
EVT = "onex.test.answers.evt.v1"
RUNTIME = """\
schema_version: "2.0.0"
runtime:
  name: "answers_host"
  event_bus:
    kind: "inmemory"
    config:
      topics: {{input: "{cmd}"}}
      partitions: 2
  max_concurrent_operations: {concurrency}
  idempotency: {{window_seconds: 60, max_entries_per_partition: 1000}}
  handlers:
    - type: "local"
  nodes:
    - slug: "store_effect"{effect}
    - slug: "echo_compute"{compute}
"""
EFFECT_NODE = """\
schema_version: "1.0.0"
name: "store_effect"
node_type: "EFFECT"
io_operations:
  - {type: local, operations: ["local.echo", "local.error"]}
"""
COMPUTE_NODE = """\
schema_version: "1.0.0"
name: "echo_compute"
node_type: "COMPUTE"
io_operations:
  - {type: local, operations: ["local.echo"]}
"""
WAIT = 5.0


class Clock:
    """Seconds since the epoch, moved by hand (the answers' expiry clock)."""

    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


def contract_at(root: Path, *, concurrency: int = 1, effect: str = "", compute: str = "") -> Path:
    runtime = RUNTIME.format(cmd=CMD, concurrency=concurrency, effect=effect, compute=compute)
    return write_contract(
        root, runtime, {"store_effect": EFFECT_NODE, "echo_compute": COMPUTE_NODE}
    )


def command(n: int, node: str = "store_effect", **payload: Any) -> dict[str, Any]:
    return {
        "envelope_id": str(UUID(int=n)),
        "correlation_id": str(UUID(int=10_000 + n)),
        "source_node": "client",
        "target_node": node,
        "handler_type": "local",
        "operation": "local.echo",
        "payload": {"n": n, **payload},
    }


def key(n: int) -> bytes:
    return str(UUID(int=10_000 + n)).encode()


def answers(running: RunningHost) -> list[Record]:
    return running.records("event")


def changelog(broker: MemoryBroker) -> list[Record]:
    name = next(t for t in broker.topics() if t.endswith(f"answers-{CMD}-changelog"))
    return [r for p in range(broker.partitions_for(name) or 0) for r in broker.records(name, p)]


def replayed(running: RunningHost) -> float:
    sample = running.host.metrics.registry.get_sample_value(
        "onex_replayed_answers_total", {"topic": CMD}
    )
    return sample or 0.0


@pytest.fixture(autouse=True)
def executions() -> Iterator[Any]:
    CountingLocalHandler.executions.clear()
    yield CountingLocalHandler.executions
    CountingLocalHandler.executions.clear()


@pytest.fixture
def clock_s() -> Clock:
    return Clock()


def host(
    contract: Path,
    ids: DeterministicIds,
    clock: DeterministicClock,
    clock_s: Clock,
    **overrides: Any,
) -> Any:
    return running_host(
        contract,
        ids=ids,
        clock=clock,
        extra_handlers={EnumHandlerType.LOCAL: CountingLocalHandler},
        idempotency_clock=clock_s,
        retry_backoff_seconds=0.001,
        **overrides,
    )


@pytest.fixture
async def running(
    tmp_path: Path, ids: DeterministicIds, clock: DeterministicClock, clock_s: Clock
) -> AsyncIterator[RunningHost]:
    async with host(contract_at(tmp_path), ids, clock, clock_s) as started:
        yield started


async def answered(running: RunningHost, count: int) -> list[Record]:
    """Wait for ``count`` answers on the event topic; all of them, in partition order."""
    await running.broker.wait_for_records(EVT, count, WAIT)
    return answers(running)


def same_broker_url(broker: MemoryBroker) -> str:
    from onex_stream.infra.event_bus.memory import broker as broker_module  # noqa: PLC0415

    return next(f"memory://{name}" for name, b in broker_module._brokers.items() if b is broker)


async def test_a_command_re_sent_with_its_envelope_id_gets_the_same_answer_and_runs_once(
    running: RunningHost, executions: Any
) -> None:
    running.send(command(1), key=key(1))
    (first,) = await answered(running, 1)
    running.send(command(1), key=key(1))
    again = (await answered(running, 2))[1]
    assert (again.key, again.value, again.headers) == (first.key, first.value, first.headers)
    assert executions[UUID(int=1)] == 1
    assert replayed(running) == 1
    assert json.loads(first.value or b"")["success"] is True


async def test_the_changelog_record_is_written_before_the_answer(running: RunningHost) -> None:
    running.send(command(2), key=key(2))
    await answered(running, 1)
    (entry,) = changelog(running.broker)
    (answer,) = answers(running)
    assert entry.key == UUID(int=2).bytes
    assert entry.timestamp_ms <= answer.timestamp_ms
    assert entry.partition == 0 or entry.partition == 1
    command_partition = next(p for p in range(2) if running.broker.records(CMD, p))
    assert entry.partition == command_partition  # co-partitioned with the command


async def test_a_restart_from_uncommitted_offsets_replays_from_the_recovered_table(
    tmp_path: Path,
    ids: DeterministicIds,
    clock: DeterministicClock,
    clock_s: Clock,
    executions: Any,
) -> None:
    contract = contract_at(tmp_path)
    async with host(contract, ids, clock, clock_s) as first:
        for n in range(20):
            first.send(command(n), key=key(n))
        await answered(first, 20)
        broker, group = first.broker, first.host.definition.contract.runtime.consumer_group
    # as if the worker died before committing: its offsets go back to the start, and
    # the table's entries only exist in its changelog (a new worker has an empty memory)
    broker.commit(group, {(CMD, p): 0 for p in range(2)})
    async with host(contract, ids, clock, clock_s, broker_url=same_broker_url(broker)) as second:
        values = Counter(r.value for r in await answered(second, 40))
        assert set(values.values()) == {2} and len(values) == 20  # each answer, twice
        assert replayed(second) == 20
    assert len(executions) == 20 and set(executions.values()) == {1}


async def test_compute_nodes_are_not_deduplicated_by_default(
    running: RunningHost, executions: Any
) -> None:
    running.send(command(3, node="echo_compute"), key=key(3))
    running.send(command(3, node="echo_compute"), key=key(3))
    first, second = await answered(running, 2)
    assert first.value != second.value  # two executions, two answers (new envelope_ids)
    assert executions[UUID(int=3)] == 2
    assert changelog(running.broker) == []


async def test_the_node_binding_overrides_the_default(
    tmp_path: Path,
    ids: DeterministicIds,
    clock: DeterministicClock,
    clock_s: Clock,
    executions: Any,
) -> None:
    contract = contract_at(
        tmp_path, effect="\n      idempotent: false", compute="\n      idempotent: true"
    )
    async with host(contract, ids, clock, clock_s) as running:
        for node in ("store_effect", "echo_compute"):
            n = 4 if node == "store_effect" else 5
            running.send(command(n, node=node), key=key(n))
            running.send(command(n, node=node), key=key(n))
        await answered(running, 4)
    assert executions[UUID(int=4)] == 2  # EFFECT, idempotent: false
    assert executions[UUID(int=5)] == 1  # COMPUTE, idempotent: true


async def test_a_host_without_idempotent_nodes_has_no_table(
    tmp_path: Path,
    ids: DeterministicIds,
    clock: DeterministicClock,
    clock_s: Clock,
) -> None:
    contract = contract_at(tmp_path, effect="\n      idempotent: false")
    async with host(contract, ids, clock, clock_s) as running:
        assert running.host.bus._answers == []  # type: ignore[attr-defined]
        assert not any(t.endswith("-changelog") for t in running.broker.topics())
        running.send(command(6), key=key(6))
        await answered(running, 1)


async def test_an_answer_expires_after_the_window(
    running: RunningHost, clock_s: Clock, executions: Any
) -> None:
    running.send(command(7), key=key(7))
    await answered(running, 1)
    clock_s.now += 59
    running.send(command(7), key=key(7))
    await answered(running, 2)
    assert executions[UUID(int=7)] == 1
    clock_s.now += 2  # 61 s after the answer: forgotten
    running.send(command(7), key=key(7))
    await answered(running, 3)
    assert executions[UUID(int=7)] == 2
    table = running.host.bus._answers[0]  # type: ignore[attr-defined]
    clock_s.now += 61
    assert table.memory.sweep() == 1 and len(table.memory) == 0


async def test_expired_entries_are_not_restored_after_a_restart(
    tmp_path: Path,
    ids: DeterministicIds,
    clock: DeterministicClock,
    clock_s: Clock,
    executions: Any,
) -> None:
    contract = contract_at(tmp_path)
    async with host(contract, ids, clock, clock_s) as first:
        first.send(command(8), key=key(8))
        await answered(first, 1)
        clock_s.now += 30
        first.send(command(9), key=key(9))
        await answered(first, 2)
        broker = first.broker
    clock_s.now += 40  # command 8 answered 70 s ago, command 9 40 s ago
    async with host(contract, ids, clock, clock_s, broker_url=same_broker_url(broker)) as second:
        table = second.host.bus._answers[0]  # type: ignore[attr-defined]
        assert len(table.memory) == 1
        second.send(command(8), key=key(8))
        second.send(command(9), key=key(9))
        await answered(second, 4)
    assert executions[UUID(int=8)] == 2 and executions[UUID(int=9)] == 1


async def test_a_refused_answer_is_sent_again_from_the_table_not_re_executed(
    running: RunningHost, executions: Any
) -> None:
    running.broker.refuse_appends(EVT, count=1)
    running.send(command(10), key=key(10))
    (answer,) = await answered(running, 1)
    assert executions[UUID(int=10)] == 1
    assert len(changelog(running.broker)) == 1
    assert json.loads(answer.value or b"")["causation_id"] == str(UUID(int=10))


async def test_no_answer_is_sent_before_its_changelog_record_is_stored(
    running: RunningHost, executions: Any
) -> None:
    name = next(t for t in running.broker.topics() if t.endswith("-changelog"))
    running.broker.refuse_appends(name, count=1)
    running.send(command(11), key=key(11))
    await answered(running, 1)  # one answer: none went out before the refusal
    await asyncio.sleep(0.1)
    assert len(answers(running)) == 1
    assert len(changelog(running.broker)) == 1
    assert executions[UUID(int=11)] == 1


async def test_the_same_envelope_twice_in_one_concurrent_batch_runs_once(
    tmp_path: Path,
    ids: DeterministicIds,
    clock: DeterministicClock,
    clock_s: Clock,
    executions: Any,
) -> None:
    async with host(contract_at(tmp_path, concurrency=8), ids, clock, clock_s) as running:
        for _ in range(3):
            running.send(command(12, delay_ms=50), key=key(12))
        values = {r.value for r in await answered(running, 3)}
    assert len(values) == 1
    assert executions[UUID(int=12)] == 1


async def test_answers_given_before_any_handler_ran_are_not_remembered(
    running: RunningHost, executions: Any
) -> None:
    undeclared = {**command(13), "operation": "local.transform"}  # OPERATION_NOT_ALLOWED
    running.send(undeclared, key=key(13))
    (answer,) = await answered(running, 1)
    assert json.loads(answer.value or b"")["error"]["code"] == "OPERATION_NOT_ALLOWED"
    assert changelog(running.broker) == []
    failing = {**command(14), "operation": "local.error"}  # the handler ran: remembered
    running.send(failing, key=key(14))
    running.send(failing, key=key(14))
    await answered(running, 3)
    assert executions[UUID(int=14)] == 1


async def test_a_changelog_not_co_partitioned_with_its_command_topic_stops_the_worker(
    tmp_path: Path, ids: DeterministicIds, clock: DeterministicClock, clock_s: Clock
) -> None:
    url = f"memory://{uuid4().hex}"
    get_broker(url).create_topic(CMD, 4)  # created beforehand, unlike the contract's 2
    async with host(contract_at(tmp_path), ids, clock, clock_s, broker_url=url) as running:
        app = running.host.bus.app  # type: ignore[attr-defined]
        await asyncio.wait_for(app._crashed.wait(), WAIT)  # mode sets it in Service.crash
        assert "has 2 partitions but onex.test.answers.cmd.v1 has 4" in str(app._crash_reason)
