"""Dead letters read back from Kafka (by partition, offset and time range) and re-published."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from onex_stream.core.errors import EventBusError
from onex_stream.infra.event_bus.kafka.admin import existing_topics
from onex_stream.infra.event_bus.records import DLQ_HEADER_PREFIX

#: Header a re-published record carries: the dead letter it came from (topic/partition/offset).
REPLAY_HEADER = "onex-replay-of"
_FETCH_WAIT_MS = 100


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """One record of a dead-letter topic: the original key and bytes, ``onex-dlq-*`` headers."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: Mapping[str, bytes]

    def header(self, name: str) -> str | None:
        """The ``onex-dlq-<name>`` header, decoded (None when absent)."""
        value = self.headers.get(DLQ_HEADER_PREFIX + name)
        return None if value is None else value.decode(errors="replace")

    @property
    def reason(self) -> str:
        """Why it was dead-lettered."""
        return self.header("reason") or ""

    @property
    def original_topic(self) -> str | None:
        """The command topic the original record was consumed from."""
        return self.header("topic")

    @property
    def truncated(self) -> bool:
        """Whether only the head of the original value was kept (it cannot be re-sent)."""
        return self.header("truncated") == "true"

    @property
    def refusal(self) -> str | None:
        """Why it cannot be re-sent as is; None when it can."""
        if self.truncated:
            size = self.header("original-size") or "?"
            kept = len(self.value or b"")
            return f"truncated: {kept} of {size} bytes kept, the original is lost"
        if not self.original_topic:
            return f"no {DLQ_HEADER_PREFIX}topic header: not a dead letter of a runtime host"
        return None


@dataclass(frozen=True, slots=True)
class ReadWindow:
    """Which records to read: partitions, offsets (inclusive), times (ms, [since, until))."""

    partitions: frozenset[int] | None = None
    from_offset: int | None = None
    to_offset: int | None = None
    since_ms: int | None = None
    until_ms: int | None = None

    def holds(self, offset: int, timestamp_ms: int) -> bool:
        """Whether a record at ``offset`` written at ``timestamp_ms`` is in the window."""
        return (
            (self.from_offset is None or offset >= self.from_offset)
            and (self.to_offset is None or offset <= self.to_offset)
            and (self.since_ms is None or timestamp_ms >= self.since_ms)
            and (self.until_ms is None or timestamp_ms < self.until_ms)
        )


async def read_dead_letters(
    bootstrap: str,
    topic: str,
    window: ReadWindow,
    auth: Mapping[str, Any],
    seconds: float = 60.0,
) -> list[DeadLetter]:
    """Every record of ``topic`` in ``window`` that exists now; EventBusError (one line)
    when the broker cannot be reached, the topic does not exist, or reading takes longer
    than ``seconds``."""
    if topic not in await existing_topics(bootstrap, **auth):
        raise EventBusError(f"no topic {topic!r} on {bootstrap}")
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=_FETCH_WAIT_MS,
        **auth,
    )
    try:
        await consumer.start()
        return await _read(consumer, topic, window, time.monotonic() + seconds)
    except KafkaError as exc:
        raise EventBusError(f"reading {topic} on {bootstrap} failed: {exc!r}") from None
    finally:
        await consumer.stop()


async def _read(
    consumer: AIOKafkaConsumer, topic: str, window: ReadWindow, deadline: float
) -> list[DeadLetter]:
    await consumer.topics()  # metadata of every topic
    known = consumer.partitions_for_topic(topic) or set()
    tps = [TopicPartition(topic, p) for p in sorted(known) if _wanted(p, window)]
    if not tps:
        return []
    consumer.assign(tps)
    ends = await consumer.end_offsets(tps)
    await _seek_to_window(consumer, tps, window)
    targets: dict[TopicPartition, int] = {}
    pending = set(tps)
    letters: list[DeadLetter] = []
    while pending:
        if time.monotonic() > deadline:
            raise EventBusError(f"reading {topic} did not reach its end in time")
        batch = await consumer.getmany(*pending, timeout_ms=_FETCH_WAIT_MS * 2)
        for records in batch.values():
            letters += [_letter(r) for r in records if window.holds(r.offset, r.timestamp)]
        for tp in list(pending):
            # A fetch's high watermark: ListOffsets may under-report (tansu after batches).
            highwater = consumer.highwater(tp)
            if highwater is None:
                continue
            target = targets.setdefault(tp, max(ends[tp], highwater))
            position = await consumer.position(tp)
            if position >= target or (window.to_offset is not None and position > window.to_offset):
                pending.discard(tp)
    return sorted(letters, key=lambda letter: (letter.partition, letter.offset))


def _wanted(partition: int, window: ReadWindow) -> bool:
    return window.partitions is None or partition in window.partitions


async def _seek_to_window(
    consumer: AIOKafkaConsumer, tps: Sequence[TopicPartition], window: ReadWindow
) -> None:
    """Start each partition at the window's first offset (else the log start)."""
    await consumer.seek_to_beginning(*tps)
    starts = {tp: await consumer.position(tp) for tp in tps}
    if window.since_ms is not None:
        found = await consumer.offsets_for_times(dict.fromkeys(tps, window.since_ms))
        for tp, hit in found.items():
            if hit is not None:
                starts[tp] = max(starts[tp], hit.offset)
    if window.from_offset is not None:
        starts = {tp: max(start, window.from_offset) for tp, start in starts.items()}
    for tp, start in starts.items():
        consumer.seek(tp, start)  # past the end: reset to the start, filtered by the window


def _letter(record: Any) -> DeadLetter:
    return DeadLetter(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        timestamp_ms=record.timestamp,
        key=record.key,
        value=record.value,
        headers=dict(record.headers),
    )


@dataclass(frozen=True, slots=True)
class Resent:
    """Where a re-published dead letter went, or why it could not be sent."""

    letter: DeadLetter
    partition: int | None = None
    offset: int | None = None
    error: str | None = None


async def republish(
    bootstrap: str,
    letters: Sequence[DeadLetter],
    auth: Mapping[str, Any],
    *,
    idempotence: bool = False,
) -> list[Resent]:
    """Produce each letter's original key and bytes to its original topic (acks=all);
    what happened to each. EventBusError when the broker cannot be reached."""
    largest = max(
        (len(letter.value or b"") + len(letter.key or b"") for letter in letters), default=0
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=idempotence,
        max_request_size=max(1_048_576, largest + 16_384),
        **auth,
    )
    try:
        await producer.start()
    except KafkaError as exc:
        await producer.stop()
        raise EventBusError(f"cannot reach Kafka at {bootstrap}: {type(exc).__name__}") from None
    try:
        sent = [await _send(producer, letter) for letter in letters]
        results = await asyncio.gather(*sent, return_exceptions=True)
    finally:
        await producer.stop()
    return [_resent(letter, result) for letter, result in zip(letters, results, strict=True)]


async def _send(producer: AIOKafkaProducer, letter: DeadLetter) -> asyncio.Future[Any]:
    origin = f"{letter.topic}/{letter.partition}/{letter.offset}".encode()
    try:
        future: asyncio.Future[Any] = await producer.send(
            letter.original_topic, letter.value, key=letter.key, headers=[(REPLAY_HEADER, origin)]
        )
    except KafkaError as exc:  # refused before sending (e.g. too large for the producer)
        future = asyncio.get_running_loop().create_future()
        future.set_exception(exc)
    return future


def _resent(letter: DeadLetter, result: Any) -> Resent:
    if isinstance(result, BaseException):
        return Resent(letter, error=f"{type(result).__name__}: {result}")
    return Resent(letter, partition=result.partition, offset=result.offset)
