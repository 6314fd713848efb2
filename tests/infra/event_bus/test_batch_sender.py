"""BatchSender on a real broker (tansu): records land on their key's partition, in the
order they were sent, whatever batches they were cut into; a refused batch fails its
records and only them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import faust
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from onex_stream.infra.event_bus.kafka.batch_sender import BatchSender
from onex_stream.infra.event_bus.partitioner import default_partitioner, kafka_partition
from onex_stream.infra.event_bus.records import Outbound
from tests.support.kafka import TansuBroker
from tests.support.kafka_clients import create_topics

PARTITIONS = 4
HEADERS = [("content-type", b"application/json")]


@pytest.fixture(scope="module")
def tansu() -> Iterator[TansuBroker]:
    broker = TansuBroker().start()
    yield broker
    broker.stop()


@pytest.fixture
async def app(tansu: TansuBroker, tmp_path: Path) -> AsyncIterator[faust.App]:
    """A Faust app whose aiokafka producer (only) runs; small batches, so they fill."""
    app = faust.App(
        f"batch-sender-{uuid.uuid4().hex[:8]}",
        broker=f"kafka://{tansu.bootstrap}",
        datadir=str(tmp_path),
        producer_partitioner=default_partitioner,
        producer_max_batch_size=16_384,
    )
    await app.producer.start()
    yield app
    await app.producer.stop()


@pytest.fixture
def sender(app: faust.App) -> BatchSender:
    """The app's batch sender (Faust's aiokafka producer: it has one)."""
    sender = BatchSender.of(app)
    assert sender is not None
    return sender


async def topic_with_metadata(app: faust.App, bootstrap: str) -> str:
    topic = f"batch-sender-{uuid.uuid4().hex[:8]}"
    await create_topics(bootstrap, [topic], PARTITIONS)
    await app.producer.send_and_wait(topic, b"warm-up", b"{}", 0, None, None)
    return topic


async def read(bootstrap: str, topic: str, count: int) -> dict[int, list[bytes]]:
    """The values of each partition, in offset order (without the warm-up record)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(PARTITIONS)])
        found: dict[int, list[bytes]] = {p: [] for p in range(PARTITIONS)}
        while sum(map(len, found.values())) < count + 1:
            batches = await asyncio.wait_for(consumer.getmany(timeout_ms=200), 30)
            for tp, records in batches.items():
                found[tp.partition] += [r.value for r in records if r.value is not None]
        found[0].remove(b"{}")
        return found
    finally:
        await consumer.stop()


def record(topic: str, n: int, partition: int | None = None) -> Outbound:
    return Outbound(topic, f"key-{n % 37}".encode(), b"%d:" % n + b"x" * 500, HEADERS, partition)


def expected(topic: str, numbers: range) -> dict[int, list[bytes]]:
    by_partition: dict[int, list[bytes]] = {p: [] for p in range(PARTITIONS)}
    for n in numbers:
        sent = record(topic, n)
        assert sent.key is not None and sent.value is not None
        by_partition[kafka_partition(sent.key, PARTITIONS)].append(sent.value)
    return by_partition


async def test_records_of_many_steps_land_on_their_keys_partitions_in_sending_order(
    app: faust.App, sender: BatchSender, tansu: TansuBroker
) -> None:
    topic = await topic_with_metadata(app, tansu.bootstrap)
    futures = []
    for step in range(5):  # 5 loop steps of 400: ~100 a partition, in 16 KiB builders of ~30
        for n in range(step * 400, step * 400 + 400):
            future = sender.send(record(topic, n))
            assert future is not None
            futures.append(future)
        await asyncio.sleep(0)
    await asyncio.wait_for(asyncio.gather(*futures), 30)
    assert await read(tansu.bootstrap, topic, 2_000) == expected(topic, range(2_000))


async def test_a_topic_the_producer_holds_no_metadata_for_is_left_to_the_usual_send(
    sender: BatchSender,
) -> None:
    assert sender.send(record(f"unseen-{uuid.uuid4().hex[:8]}", 1)) is None


async def test_a_refused_batch_fails_its_records_and_the_next_batches_still_go_out(
    app: faust.App, sender: BatchSender, tansu: TansuBroker
) -> None:
    topic = await topic_with_metadata(app, tansu.bootstrap)
    refused = sender.send(record(topic, 0, partition=PARTITIONS + 3))  # no such partition
    assert refused is not None
    with pytest.raises(AssertionError, match="Unrecognized partition"):
        await asyncio.wait_for(refused, 30)
    accepted = [sender.send(record(topic, n)) for n in range(1, 101)]
    await asyncio.wait_for(asyncio.gather(*accepted), 30)
    assert await read(tansu.bootstrap, topic, 100) == expected(topic, range(1, 101))


def test_only_faust_aiokafka_producers_in_the_loops_thread_get_a_batch_sender(
    tmp_path: Path,
) -> None:
    memory = faust.App("batch-sender-memory", broker="memory://", datadir=str(tmp_path))
    threaded = faust.App(
        "batch-sender-threaded",
        broker="kafka://localhost:9092",
        producer_threaded=True,
        datadir=str(tmp_path),
    )
    assert BatchSender.of(memory) is None
    assert BatchSender.of(threaded) is None
