"""Property: whatever records arrive, each ends as exactly one answer or dead letter,
nothing is committed before that, and no agent crashes (memory://, 4 partitions).

One host per concurrency setting runs on its own event loop in a thread for the whole
module; every Hypothesis example appends its records, waits until everything is
committed, and checks each record's outcome. Every commit the broker receives is
checked at the moment it happens.
"""

from __future__ import annotations

import asyncio
import json
import random
import threading
from collections.abc import Coroutine, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from uuid import UUID, uuid4

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.infra.event_bus.memory import MemoryBroker, Record
from tests.support.contracts import ECHO_NODE, write_contract
from tests.support.deterministic import DeterministicClock, DeterministicIds
from tests.support.hosts import RunningHost, running_host

T = TypeVar("T")
MiB = 1024 * 1024
PARTITIONS = 4
SETTLE_SECONDS = 30.0
RUNTIME = """\
schema_version: "2.0.0"
runtime:
  name: "property_host"
  max_concurrent_operations: {concurrency}
  event_bus:
    kind: "inmemory"
    config:
      topics: {{input: "onex.test.props.cmd.v1"}}
      partitions: {partitions}
  handlers:
    - type: "local"
  nodes:
    - slug: "echo_node"
"""


@dataclass(frozen=True)
class Sent:
    """A record to append and the outcome it must end as."""

    value: bytes = field(repr=False)
    key: bytes | None
    envelope_id: UUID | None  # the id an answer's causation_id points back to
    answers: int  # answers expected (causation_id == envelope_id)
    dead_letters: int  # dead letters expected (origin == this record)


def command(envelope_id: UUID, **fields: Any) -> dict[str, Any]:
    return {
        "envelope_id": str(envelope_id),
        "correlation_id": str(uuid4()),
        "source_node": "client",
        "handler_type": "local",
        "operation": "local.echo",
        **fields,
    }


@st.composite
def records(draw: st.DrawFn) -> Sent:
    kind = draw(st.sampled_from(["valid", "big", "invalid", "garbage", "grows"]))
    key = draw(st.none() | st.binary(max_size=8))
    eid = uuid4()
    if kind == "valid":
        payload = {"text": draw(st.text(max_size=50))}
        return Sent(json.dumps(command(eid, payload=payload)).encode(), key, eid, 1, 0)
    if kind == "big":  # up to 2 MiB: over 960 KiB it is dead-lettered and answered
        size = draw(st.integers(min_value=900_000, max_value=2 * MiB))
        value = json.dumps(command(eid, payload={"blob": "x" * size})).encode()
        too_large = len(value) > 960 * 1024
        return Sent(value, key, eid, 1, int(too_large))
    if kind == "invalid":  # readable ids, missing source_node: dead letter and error answer
        data = command(eid)
        del data["source_node"]
        return Sent(json.dumps(data).encode(), key, eid, 1, 1)
    if kind == "garbage":
        size = draw(st.sampled_from([0, 1, 100, 1_200_000, 2 * MiB]))
        seed = draw(st.integers(0, 2**16))
        return Sent(b"\xff" + random.Random(seed).randbytes(size), key, None, 0, 1)
    count = draw(st.integers(min_value=170_000, max_value=480_000))  # answer 6x count bytes
    payload = {"text": "\u0390" * count}
    value = json.dumps(
        command(eid, operation="local.transform", payload=payload), ensure_ascii=False
    )
    return Sent(value.encode(), key, eid, 1, 0)  # answered RESPONSE_TOO_LARGE


@dataclass
class Ledger:
    """Which input records already have an outcome, kept up to date on every commit."""

    running: RunningHost
    violations: list[str] = field(default_factory=list)
    _scanned: dict[str, int] = field(default_factory=dict)
    _answered_ids: set[UUID] = field(default_factory=set)
    _dead: set[tuple[int, int]] = field(default_factory=set)

    def install(self) -> None:
        broker = self.running.broker
        commit = broker.commit

        def checked_commit(group: str, offsets: Mapping[tuple[str, int], int]) -> None:
            self.check(offsets)
            commit(group, offsets)

        broker.commit = checked_commit  # type: ignore[method-assign]

    def check(self, offsets: Mapping[tuple[str, int], int]) -> None:
        self._scan()
        broker, topic = self.running.broker, self.running.subscription.input
        for (committed_topic, partition), offset in offsets.items():
            if committed_topic != topic:
                continue
            for record in broker.records(topic, partition)[:offset]:
                if not self.has_outcome(record):
                    self.violations.append(f"committed {offset} past {partition}@{record.offset}")

    def has_outcome(self, record: Record) -> bool:
        if (record.partition, record.offset) in self._dead:
            return True
        eid = _envelope_id(record.value)
        return eid is not None and eid in self._answered_ids

    def _scan(self) -> None:
        for which in ("event", "dead_letter"):
            topic = getattr(self.running.subscription, f"{which}_topic")
            broker = self.running.broker
            if broker.partitions_for(topic) is None:
                continue
            new = [
                r
                for p in range(broker.partitions_for(topic) or 0)
                for r in _unseen(self, broker, topic, p)
            ]
            for record in new:
                if which == "event":
                    answer = ModelOnexEnvelope.from_json(record.value or b"")
                    if answer.causation_id is not None:
                        self._answered_ids.add(answer.causation_id)
                else:
                    headers = dict(record.headers)
                    origin = (int(headers["onex-dlq-partition"]), int(headers["onex-dlq-offset"]))
                    self._dead.add(origin)


def _unseen(ledger: Ledger, broker: MemoryBroker, topic: str, partition: int) -> list[Record]:
    key = f"{topic}/{partition}"
    start = ledger._scanned.get(key, 0)
    records = broker.records(topic, partition, start)
    ledger._scanned[key] = start + len(records)
    return records


def _envelope_id(value: bytes | None) -> UUID | None:
    try:
        data = json.loads(value or b"")
        return UUID(data["envelope_id"])
    except (ValueError, KeyError, TypeError):
        return None


class HostThread:
    """A running host on an event loop of its own thread."""

    def __init__(self, contract: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self._context = running_host(
            contract,
            ids=DeterministicIds(),
            clock=DeterministicClock(),
            retry_backoff_seconds=0.001,
        )
        self.running: RunningHost = self.call(self._context.__aenter__())
        self.ledger = Ledger(self.running)
        self.call(self._install())

    async def _install(self) -> None:
        self.ledger.install()

    def call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(SETTLE_SECONDS * 2)

    def close(self) -> None:
        self.call(self._context.__aexit__(None, None, None))
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


@pytest.fixture(scope="module", params=[1, 8], ids=["concurrency-1", "concurrency-8"])
def host_thread(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HostThread]:
    root = tmp_path_factory.mktemp(f"props-{request.param}")
    runtime = RUNTIME.format(concurrency=request.param, partitions=PARTITIONS)
    contract = write_contract(root, runtime, {"echo_node": ECHO_NODE})
    thread = HostThread(contract)
    yield thread
    thread.close()


async def scenario(host: HostThread, batch: list[Sent]) -> list[str]:
    running = host.running
    broker, topic = running.broker, running.subscription.input
    group = running.host.definition.contract.runtime.consumer_group
    placed = [(sent, broker.append(topic, sent.value, key=sent.key)) for sent in batch]

    def settled() -> bool:
        committed = broker.committed(group, topic)
        return all((committed[p] or 0) == end for p, end in broker.end_offsets(topic).items())

    await broker.wait_until(settled, SETTLE_SECONDS)
    host.ledger._scan()
    problems = list(host.ledger.violations)
    answers = [ModelOnexEnvelope.from_json(r.value or b"") for r in running.records("event")]
    letters = [dict(r.headers) for r in running.records("dead_letter")]
    for sent, (partition, offset) in placed:
        got_answers = sum(
            1 for a in answers if sent.envelope_id and a.causation_id == sent.envelope_id
        )
        got_letters = sum(
            1
            for h in letters
            if (h["onex-dlq-partition"], h["onex-dlq-offset"])
            == (str(partition).encode(), str(offset).encode())
        )
        if (got_answers, got_letters) != (sent.answers, sent.dead_letters):
            problems.append(
                f"{partition}@{offset} ({len(sent.value)} B): {got_answers} answers, "
                f"{got_letters} dead letters; expected {sent.answers}, {sent.dead_letters}"
            )
    if running.host.bus.app.crashed:  # type: ignore[attr-defined]
        problems.append("the app crashed")
    return problems


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
@given(batch=st.lists(records(), min_size=1, max_size=12))
def test_every_record_ends_as_one_answer_or_dead_letter_and_is_committed_only_then(
    host_thread: HostThread, batch: list[Sent]
) -> None:
    assert host_thread.call(scenario(host_thread, batch)) == []
