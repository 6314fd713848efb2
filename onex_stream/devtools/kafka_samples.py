"""Sample traffic through ordinary Kafka clients: create topics, produce, collect the outcome."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from onex_stream.core.contracts import ModelSubscription
from onex_stream.infra.event_bus.codec import DecodeFailure, decode_envelope


async def create_topics(bootstrap: str, names: list[str], partitions: int) -> None:
    """Create ``names`` (as an operator does before a host starts: it never creates them)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1) for name in names])
    finally:
        await admin.close()


def record_key(line: bytes) -> bytes | None:
    """The key a producer should give a command: its correlation_id (None without one)."""
    try:
        value = json.loads(line).get("correlation_id")
    except (ValueError, AttributeError):
        return None
    return value.encode() if isinstance(value, str) else None


async def produce(bootstrap: str, topic: str, lines: list[bytes]) -> None:
    """Produce every line (acks=all), keyed by its correlation_id; wait for every ack."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        sends = [await producer.send(topic, line, key=record_key(line)) for line in lines]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


@dataclass
class Outcome:
    """What the host wrote for a set of commands: answers and dead letters (records)."""

    answers: list[Any] = field(default_factory=list)
    dead_letters: list[Any] = field(default_factory=list)


def expected_outcome(lines: list[bytes], max_envelope_bytes: int) -> tuple[int, int]:
    """(answers, dead letters) the host writes for ``lines``, decided as the host decides."""
    answers = dead_letters = 0
    for line in lines:
        decoded = decode_envelope(line, max_envelope_bytes)
        if isinstance(decoded, DecodeFailure):
            dead_letters += 1
            answers += decoded.answerable
        else:
            answers += 1
    return answers, dead_letters


async def collect(
    bootstrap: str, route: ModelSubscription, partitions: int, expected: tuple[int, int],
    seconds: float,
) -> Outcome:  # fmt: skip
    """Read the event and dead-letter topics from the start until ``expected`` (answers,
    dead letters) arrived; TimeoutError after ``seconds``."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    outcome = Outcome()
    try:
        topics = (route.event_topic, route.dead_letter_topic)
        consumer.assign([TopicPartition(t, p) for t in topics for p in range(partitions)])
        deadline = time.monotonic() + seconds
        while len(outcome.answers) < expected[0] or len(outcome.dead_letters) < expected[1]:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{len(outcome.answers)} of {expected[0]} answers and "
                    f"{len(outcome.dead_letters)} of {expected[1]} dead letters in {seconds:g} s"
                )
            for tp, records in (await consumer.getmany(timeout_ms=200)).items():
                into = outcome.answers if tp.topic == route.event_topic else outcome.dead_letters
                into.extend(records)
    finally:
        await consumer.stop()
    return outcome
