"""Delivery under hostile records and a refusing broker, on the memory:// transport.

Every record ends as an answer or a dead letter that fits the producer's limit; a send
the broker refuses is tried again, then dead-lettered; when nothing can be written the
worker stops and no offset is committed past the unanswered record.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from onex_stream.infra.event_bus.memory import MemoryBroker
from onex_stream.infra.event_bus.memory import broker as broker_module
from onex_stream.infra.event_bus.records import Outbound, encoded_size
from tests.support.contracts import ECHO_NODE, write_contract
from tests.support.deterministic import DeterministicClock, DeterministicIds
from tests.support.hosts import RunningHost, running_host

MAX_RECORD = 16 * 1024
RUNTIME = f"""\
schema_version: "2.0.0"
runtime:
  name: "delivery_host"
  event_bus:
    kind: "inmemory"
    config:
      topics: {{input: "onex.test.delivery.cmd.v1"}}
      partitions: 1
      max_envelope_bytes: 8192
      max_record_bytes: {MAX_RECORD}
      max_delivery_attempts: 3
  handlers:
    - type: "local"
  nodes:
    - slug: "echo_node"
"""
#: Upper-cases to three code points (6 bytes) from one (2 bytes): answers grow 3x.
GROWS_WHEN_UPPER_CASED = "\u0390"
WAIT = 5.0


@pytest.fixture
def contract(tmp_path: Path) -> Path:
    return write_contract(tmp_path, RUNTIME, {"echo_node": ECHO_NODE})


@pytest.fixture
async def running(
    contract: Path, ids: DeterministicIds, clock: DeterministicClock
) -> AsyncIterator[RunningHost]:
    async with running_host(contract, ids=ids, clock=clock, retry_backoff_seconds=0.001) as host:
        yield host


def command(n: int, **fields: Any) -> dict[str, Any]:
    return {
        "envelope_id": str(UUID(int=n)),
        "correlation_id": str(UUID(int=10_000 + n)),
        "source_node": "client",
        "handler_type": "local",
        "operation": "local.echo",
        "payload": {"n": n},
        **fields,
    }


def committed(running: RunningHost) -> int | None:
    group = running.host.definition.contract.runtime.consumer_group
    return running.broker.committed(group, running.subscription.input)[0]


async def wait_committed(running: RunningHost, offset: int) -> None:
    await running.broker.wait_until(lambda: committed(running) == offset, WAIT)


def fits(record: Any) -> bool:
    outbound = Outbound(record.topic, record.key, record.value, record.headers)
    return encoded_size(outbound) <= MAX_RECORD


async def test_an_answer_over_the_producer_limit_is_replaced_by_response_too_large(
    running: RunningHost,
) -> None:
    payload = {"text": GROWS_WHEN_UPPER_CASED * 3000}
    cmd = command(1, operation="local.transform", payload=payload)
    running.send(json.dumps(cmd, ensure_ascii=False).encode())
    running.send(command(2))

    too_large, after = await running.responses(2)
    assert too_large.success is False and too_large.payload is None
    assert too_large.error is not None and too_large.error.code == "RESPONSE_TOO_LARGE"
    assert too_large.error.details is not None
    assert too_large.error.details["max_bytes"] == MAX_RECORD
    assert too_large.error.details["size_bytes"] > MAX_RECORD
    assert too_large.correlation_id == UUID(int=10_001)
    assert after.success is True
    await wait_committed(running, 2)


async def test_a_record_over_the_producer_limit_is_dead_lettered_truncated_with_its_digest(
    running: RunningHost,
) -> None:
    original = json.dumps(command(1, payload={"blob": "x" * 1_500_000})).encode()
    running.send(original, key=b"k" * 5000)
    running.send(command(2))

    (letter,) = await running.dead_letters(1)
    headers = dict(letter.headers)
    assert fits(letter)
    assert original.startswith(letter.value or b"-")
    assert headers["onex-dlq-truncated"] == b"true"
    assert headers["onex-dlq-original-size"] == str(len(original)).encode()
    assert headers["onex-dlq-sha256"] == hashlib.sha256(original).hexdigest().encode()
    assert headers["onex-dlq-original-key-size"] == b"5000"
    assert b"exceeds the limit" in headers["onex-dlq-reason"]
    error_answer, after = await running.responses(2)
    assert error_answer.error is not None
    assert error_answer.error.code == "ENVELOPE_VALIDATION_ERROR"
    assert after.success is True
    await wait_committed(running, 2)


async def test_an_answer_the_broker_refuses_once_is_sent_again(running: RunningHost) -> None:
    running.broker.refuse_appends(running.subscription.event_topic, count=1)
    running.send(command(1))

    (answer,) = await running.responses(1)
    assert answer.success is True and answer.causation_id == UUID(int=1)
    await wait_committed(running, 1)
    assert running.records("dead_letter") == []


async def test_a_record_the_broker_keeps_refusing_is_dead_lettered_after_every_attempt(
    running: RunningHost,
) -> None:
    running.broker.refuse_appends(running.subscription.event_topic, count=-1)
    running.send(command(1))

    (letter,) = await running.dead_letters(1)
    headers = dict(letter.headers)
    assert headers["onex-dlq-error-code"] == b"EVENT_BUS_ERROR"
    assert headers["onex-dlq-reason"].startswith(b"not answered after 3 attempts: Producer")
    assert letter.value == json.dumps(command(1)).encode()
    await wait_committed(running, 1)

    running.broker.accept_appends(running.subscription.event_topic)
    running.send(command(2))
    (answer,) = await running.responses(1)
    assert answer.causation_id == UUID(int=2)


async def test_when_nothing_can_be_written_the_worker_stops_and_commits_nothing_past_it(
    contract: Path, ids: DeterministicIds, clock: DeterministicClock
) -> None:
    async with running_host(contract, ids=ids, clock=clock, retry_backoff_seconds=0.001) as running:
        broker, subscription = running.broker, running.subscription
        for n in range(3):
            running.send(command(n))
        await running.responses(3)
        await wait_committed(running, 3)
        broker.refuse_appends(subscription.event_topic, count=-1)
        broker.refuse_appends(subscription.dead_letter_topic, count=-1)
        for n in range(3, 6):
            running.send(command(n))
        app = running.host.bus.app  # type: ignore[attr-defined]
        await asyncio.wait_for(app._crashed.wait(), WAIT)  # mode sets it in Service.crash
    assert committed(running) == 3

    broker.accept_appends(subscription.event_topic)
    broker.accept_appends(subscription.dead_letter_topic)
    async with restarted(contract, broker, ids, clock) as again:
        answers = await again.responses(6)
        assert [a.causation_id for a in answers[3:]] == [UUID(int=n) for n in range(3, 6)]
        await wait_committed(again, 6)


def restarted(
    contract: Path, broker: MemoryBroker, ids: DeterministicIds, clock: DeterministicClock
) -> Any:
    """A second worker of the same group on the same broker."""
    url = next(f"memory://{name}" for name, b in broker_module._brokers.items() if b is broker)
    return running_host(contract, ids=ids, clock=clock, broker_url=url)
