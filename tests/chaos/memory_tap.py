"""Feeds a chaos Recorder with what a memory:// broker receives on the answer topics."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.infra.event_bus.memory import MemoryBroker
from tests.chaos.ledger import Recorder
from tests.support.hosts import RunningHost


class MemoryTap:
    """Reads the event and dead-letter topics as records are appended (woken by the
    broker's change notification) and notes each one in ``recorder`` as it arrives."""

    def __init__(
        self, broker: MemoryBroker, event_topic: str, dead_letter_topic: str, recorder: Recorder
    ) -> None:
        self.broker, self.recorder = broker, recorder
        self.event_topic, self.dead_letter_topic = event_topic, dead_letter_topic
        self._read: dict[tuple[str, int], int] = {}

    def drain(self) -> None:
        """Note every record appended since the last drain."""
        for topic in (self.event_topic, self.dead_letter_topic):
            for partition in range(self.broker.partitions_for(topic) or 0):
                start = self._read.get((topic, partition), 0)
                records = self.broker.records(topic, partition, start)
                self._read[(topic, partition)] = start + len(records)
                for record in records:
                    if topic == self.event_topic:
                        self.recorder.note_answer(ModelOnexEnvelope.from_json(record.value or b""))
                    else:
                        self.recorder.note_dead_letter(record.value, record.headers)

    async def run(self) -> None:
        """Drain on every broker change, until cancelled."""
        while True:
            self.drain()
            await self.broker.wait_for_change()


@contextlib.asynccontextmanager
async def tapped(running: RunningHost, recorder: Recorder) -> AsyncIterator[MemoryTap]:
    """A :class:`MemoryTap` on ``running``'s first subscription, running meanwhile."""
    subscription = running.subscription
    tap = MemoryTap(
        running.broker, subscription.event_topic, subscription.dead_letter_topic, recorder
    )
    task = asyncio.create_task(tap.run())
    try:
        yield tap
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        tap.drain()
