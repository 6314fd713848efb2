"""Poison records and refused sends against the real broker: nothing stalls, nothing is lost.

A record over the producer's limit, and a command whose answer is over it, used to crash
the agent: afterwards the partition either replayed and re-crashed forever, or (with
concurrency) its offsets were committed past unanswered commands.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from faust.exceptions import ProducerSendError

from onex_stream.bootstrap import build_host, faust_app
from tests.integration.kafka.conftest import ContractFactory
from tests.support.kafka import TansuBroker
from tests.support.kafka_clients import (
    AnswerReader,
    command,
    committed_offsets,
    create_topics,
    record_counts,
)
from tests.support.workers import WorkerProcess

MiB = 1024 * 1024
#: Upper-cases to three code points (6 bytes) from one (2 bytes).
GROWS_WHEN_UPPER_CASED = "\u0390"


def topics(domain: str) -> list[str]:
    return [f"onex.{domain}.orders.{signal}.v1" for signal in ("cmd", "evt", "error")]


async def produce_large(bootstrap: str, topic: str, values: list[bytes]) -> None:
    """Produce in order, with a producer that accepts records of a few MiB."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", max_request_size=4 * MiB)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value, key=b"same-key")
    finally:
        await producer.stop()


async def read_dead_letters(bootstrap: str, topic: str, count: int, seconds: float) -> list[Any]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    letters: list[Any] = []
    try:
        async with asyncio.timeout(seconds):
            while len(letters) < count:
                for records in (await consumer.getmany(timeout_ms=200)).values():
                    letters.extend(records)
    finally:
        await consumer.stop()
    return letters


async def wait_committed_to_end(bootstrap: str, group: str, domain: str, partitions: int) -> None:
    cmd = topics(domain)[0]
    ends = await record_counts(bootstrap, cmd, partitions)
    expected = {p: n for p, n in ends.items() if n}
    for _ in range(400):  # polls the broker for up to 20 s
        committed = await committed_offsets(bootstrap, group, cmd)
        if committed == expected:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"committed {committed}, log end {expected}")


@pytest.mark.parametrize(("partitions", "concurrency"), [(1, 1), (8, 8)])
async def test_oversized_records_and_answers_neither_stall_nor_skip_their_partition(
    kafka: TansuBroker,
    contract: ContractFactory,
    workers: list[WorkerProcess],
    partitions: int,
    concurrency: int,
) -> None:
    domain = f"poison{partitions}x{concurrency}"
    cmd, evt, dlq = topics(domain)
    await create_topics(kafka.bootstrap, topics(domain), partitions=partitions)
    before = [command(n) for n in range(10)]
    after = [command(n) for n in range(10, 20)]
    oversized = json.dumps(command(99, payload={"blob": "x" * (3 * MiB // 2)})).encode()
    big_answer = command(98, operation="local.transform")
    big_answer["payload"] = {"text": GROWS_WHEN_UPPER_CASED * 400_000}
    values = [
        *(json.dumps(c).encode() for c in before),
        oversized,
        json.dumps(big_answer, ensure_ascii=False).encode(),
        *(json.dumps(c).encode() for c in after),
    ]
    await produce_large(kafka.bootstrap, cmd, values)
    path = contract(
        kafka.bootstrap,
        group=domain,
        domain=domain,
        partitions=partitions,
        concurrency=concurrency,
        create_topics=False,
    )
    worker = WorkerProcess(path).start()
    workers.append(worker)
    worker.wait_ready()

    valid_ids = {c["envelope_id"] for c in before + after}
    async with AnswerReader(kafka.bootstrap, evt) as reader:
        await reader.read_until(valid_ids | {big_answer["envelope_id"]}, seconds=60)
        too_large = next(
            json.loads(r.value)
            for r in reader.records
            if json.loads(r.value)["causation_id"] == big_answer["envelope_id"]
        )
    assert too_large["error"]["code"] == "RESPONSE_TOO_LARGE"
    (letter,) = await read_dead_letters(kafka.bootstrap, dlq, 1, seconds=20)
    headers = {k: v for k, v in letter.headers}
    assert headers["onex-dlq-original-size"] == str(len(oversized)).encode()
    assert headers["onex-dlq-sha256"] == hashlib.sha256(oversized).hexdigest().encode()
    assert len(letter.value) < 1_000_000
    await wait_committed_to_end(kafka.bootstrap, domain, domain, partitions)

    worker.stop()
    again = WorkerProcess(path).start()
    workers.append(again)
    again.wait_ready()
    sentinel = command(100)
    await produce_large(kafka.bootstrap, cmd, [json.dumps(sentinel).encode()])
    async with AnswerReader(kafka.bootstrap, evt) as reader:
        await reader.read_until({sentinel["envelope_id"]}, seconds=30)
        assert reader.duplicates == 0  # nothing replayed after the restart
    assert "Traceback" not in worker.output + again.output
    assert "MessageSizeTooLarge" not in worker.output + again.output


@asynccontextmanager
async def host_refusing(path: Any, refused: set[str]) -> AsyncIterator[Any]:
    """An in-process host on the real broker whose producer fails every send to ``refused``
    topics, as aiokafka reports a send the broker refused (``ProducerSendError``): one by
    one through Faust's producer, or a batch through aiokafka's (``BatchSender``)."""
    host = build_host(
        path,
        env={"ONEX_ENV": "test"},
        bus_overrides={"web_enabled": False, "retry_backoff_seconds": 0.01},
    )
    app = faust_app(host)
    await app.maybe_start_producer()
    send = app.producer.send

    async def refusing_send(topic: str, *args: Any, **kwargs: Any) -> Any:
        if topic in refused:
            raise ProducerSendError(f"broker refused a record for {topic!r}")
        return await send(topic, *args, **kwargs)

    app.producer.send = refusing_send
    send_batch = app.producer._producer.send_batch

    async def refusing_send_batch(batch: Any, topic: str, **kwargs: Any) -> Any:
        if topic in refused:
            raise ProducerSendError(f"broker refused a batch for {topic!r}")
        return await send_batch(batch, topic, **kwargs)

    app.producer._producer.send_batch = refusing_send_batch
    await app.start()
    try:
        yield app
    finally:
        await app.stop()


async def test_a_worker_that_cannot_answer_stops_without_committing_past_the_record(
    kafka: TansuBroker, contract: ContractFactory
) -> None:
    domain = "refused"
    cmd, evt, dlq = topics(domain)
    await create_topics(kafka.bootstrap, topics(domain), partitions=1)
    path = contract(kafka.bootstrap, group=domain, domain=domain, partitions=1, create_topics=False)
    first = [command(n) for n in range(5)]
    await produce_large(kafka.bootstrap, cmd, [json.dumps(c).encode() for c in first])
    async with host_refusing(path, refused={evt, dlq}) as app:
        await asyncio.wait_for(app._crashed.wait(), 30)  # mode sets it in Service.crash
    assert await committed_offsets(kafka.bootstrap, domain, cmd) in ({}, {0: 0})

    async with host_refusing(path, refused=set()):
        async with AnswerReader(kafka.bootstrap, evt) as reader:
            await reader.read_until({c["envelope_id"] for c in first}, seconds=30)
        await wait_committed_to_end(kafka.bootstrap, domain, domain, 1)
