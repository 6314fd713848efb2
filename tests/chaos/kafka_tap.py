"""Feeds a chaos Recorder with what a Kafka-protocol broker holds on the answer topics.

The Kafka counterpart of ``tests.chaos.memory_tap``: an independent aiokafka consumer (no
group, every partition, from the beginning) reads the event topic and the dead-letter topic
and notes each record in the recorder as it arrives (answers decoded with
``ModelOnexEnvelope.from_json``, dead letters passed with their headers). It reaches the
broker the way every client does, so a cut proxy delays what it notes until the restore.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

from aiokafka import AIOKafkaConsumer

from onex_stream.core.envelope import ModelOnexEnvelope
from tests.chaos.ledger import Recorder


class KafkaTap:
    """Reads ``event_topic`` and ``dead_letter_topic`` into ``recorder`` until cancelled."""

    def __init__(
        self, bootstrap: str, event_topic: str, dead_letter_topic: str, recorder: Recorder
    ) -> None:
        self.event_topic, self.dead_letter_topic = event_topic, dead_letter_topic
        self.recorder = recorder
        self.records = 0
        self.last_record_at = time.monotonic()
        self.consumer = AIOKafkaConsumer(
            event_topic,
            dead_letter_topic,
            bootstrap_servers=bootstrap,
            group_id=None,
            auto_offset_reset="earliest",
            fetch_max_wait_ms=100,
        )

    async def run(self) -> None:
        """Note every record as it arrives, until cancelled."""
        while True:
            self.take(await self.consumer.getmany(timeout_ms=100))

    def take(self, batch: dict[Any, list[Any]]) -> None:
        """Note the records of one fetch."""
        for records in batch.values():
            for record in records:
                self.records += 1
                self.last_record_at = time.monotonic()
                if record.topic == self.event_topic:
                    self.recorder.note_answer(ModelOnexEnvelope.from_json(record.value or b""))
                else:
                    self.recorder.note_dead_letter(record.value, record.headers)

    async def quiet(self, seconds: float, at_most: float) -> None:
        """Wait until nothing arrived for ``seconds`` (late duplicates), ``at_most`` s."""
        deadline = time.monotonic() + at_most
        while time.monotonic() - self.last_record_at < seconds:  # silence: no event to wait on
            if time.monotonic() > deadline:
                return
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def kafka_tapped(
    bootstrap: str, event_topic: str, dead_letter_topic: str, recorder: Recorder
) -> AsyncIterator[KafkaTap]:
    """A :class:`KafkaTap` running meanwhile; stopped on exit."""
    tap = KafkaTap(bootstrap, event_topic, dead_letter_topic, recorder)
    await tap.consumer.start()
    task = asyncio.create_task(tap.run())
    try:
        yield tap
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await tap.consumer.stop()
