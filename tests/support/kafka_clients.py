"""Independent Kafka clients for tests: create topics, produce commands, read answers."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from onex_stream.devtools import kafka_samples

create_topics = kafka_samples.create_topics  # the tests create topics as the dev tools do


def command(n: int, **fields: Any) -> dict[str, Any]:
    """A local.echo command with a fresh envelope_id and correlation_id."""
    return {
        "envelope_id": str(uuid.uuid4()),
        "correlation_id": str(uuid.uuid4()),
        "source_node": "test",
        "handler_type": "local",
        "operation": "local.echo",
        "payload": {"n": n},
        **fields,
    }


async def produce(
    bootstrap: str, topic: str, values: list[bytes], keys: list[bytes], *, batched: bool = True
) -> None:
    """Produce every value (acks=all) and wait until all are acknowledged.

    ``batched=False`` sends one record per request: tansu 0.6 under-reports its log
    end offsets (ListOffsets) after multi-record batches, not after single records.
    """
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        if not batched:
            for value, key in zip(values, keys, strict=True):
                await producer.send_and_wait(topic, value, key=key)
            return
        sends = [await producer.send(topic, v, key=k) for v, k in zip(values, keys, strict=True)]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


async def record_counts(bootstrap: str, topic: str, partitions: int) -> dict[int, int]:
    """Records per partition, counted by reading the topic (not from broker offsets)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        counts = dict.fromkeys(range(partitions), 0)
        while True:
            batch = await consumer.getmany(timeout_ms=300)
            if not batch:
                return counts
            for tp, records in batch.items():
                counts[tp.partition] += len(records)
    finally:
        await consumer.stop()


async def committed_offsets(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    """The offsets ``group`` committed on ``topic`` (partitions without one omitted)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            await consumer._client.force_metadata_update()
            partitions = consumer.partitions_for_topic(topic) or set()
        found = {p: await consumer.committed(TopicPartition(topic, p)) for p in partitions}
    finally:
        await consumer.stop()
    return {p: offset for p, offset in found.items() if offset is not None}


class AnswerReader:
    """Reads a topic from the beginning, counting answers per causation_id."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
        )
        self.answers: Counter[str] = Counter()
        self.records: list[Any] = []

    async def __aenter__(self) -> AnswerReader:
        await self.consumer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.consumer.stop()

    async def read_until(self, expected: set[str], seconds: float) -> None:
        """Read until every id in ``expected`` was answered (or raise TimeoutError)."""
        try:
            await self.read_while(lambda: not expected <= set(self.answers), seconds)
        except TimeoutError:
            missing = len(expected - set(self.answers))
            raise TimeoutError(f"{missing} of {len(expected)} envelopes unanswered") from None

    async def read_at_least(self, count: int, seconds: float) -> None:
        """Read until ``count`` distinct envelopes were answered."""
        await self.read_while(lambda: len(self.answers) < count, seconds)

    async def read_to_end(self, seconds: float) -> None:
        """Read everything the topic holds right now (up to its end offsets)."""
        partitions = self.consumer.assignment()
        while not partitions:
            await self.consumer.getmany(timeout_ms=100)
            partitions = self.consumer.assignment()
        ends = await self.consumer.end_offsets(list(partitions))

        async def behind() -> bool:
            positions = [await self.consumer.position(tp) for tp in ends]
            return any(
                position < end for position, end in zip(positions, ends.values(), strict=True)
            )

        deadline = time.monotonic() + seconds
        while await behind():
            if time.monotonic() > deadline:
                raise TimeoutError
            self._take(await self.consumer.getmany(timeout_ms=200))

    async def read_while(self, condition: Callable[[], bool], seconds: float) -> None:
        """Read answers while ``condition()`` holds; TimeoutError after ``seconds``."""
        deadline = time.monotonic() + seconds
        while condition():
            if time.monotonic() > deadline:
                raise TimeoutError
            self._take(await self.consumer.getmany(timeout_ms=200))

    def _take(self, batch: dict[Any, list[Any]]) -> None:
        for records in batch.values():
            for record in records:
                self.records.append(record)
                self.answers[json.loads(record.value)["causation_id"]] += 1

    @property
    def duplicates(self) -> int:
        """Answers beyond the first per envelope."""
        return sum(count - 1 for count in self.answers.values())
