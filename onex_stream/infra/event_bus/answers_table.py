"""AnswersTable: a command topic's remembered answers, a Faust table with a changelog.

The table is co-partitioned with its command topic (same partition count; the changelog
record of a command goes to the command's own partition), so Faust's assignor gives a
worker the changelog partitions of exactly the command partitions it consumes, and its
recovery restores them before the worker consumes a single command. Entries live in an
:class:`AnswerMemory` (Faust's store is not used: one dict entry per answer is all the
memory an answer costs beside its bytes). The changelog is compacted and deleted after
the window (``cleanup.policy=compact,delete``, ``retention.ms`` = the window), so what a
new owner reads back is bounded by the window too; expired records read back are skipped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

import faust
from faust.types import TP

from onex_stream.core.errors import EventBusError
from onex_stream.infra.event_bus.answer_memory import (
    TO_DEAD_LETTERS,
    TO_EVENTS,
    AnswerMemory,
    decode,
)
from onex_stream.infra.event_bus.records import Outbound


class AnswersTable(faust.Table[bytes, bytes]):
    """Answers of one command topic by envelope_id (16 bytes), changelog-backed."""

    def __init__(
        self, app: faust.App, *, source_topic: str, partitions: int, memory: AnswerMemory
    ) -> None:
        super().__init__(
            app,
            name=f"answers-{source_topic}",
            partitions=partitions,
            key_type=bytes,
            value_type=bytes,
            store="memory://",
            help=f"answers of idempotent commands of {source_topic}, by envelope_id",
            beacon=app.tables.beacon,
        )
        self.source_topic = source_topic
        self.memory = memory
        self._changelog_deleting = True
        self.changelog_topic = self._new_changelog_topic(retention=memory.window_ms / 1000)
        self._unconfirmed: set[bytes] = set()  # stored, changelog record not yet acked
        self._running: dict[bytes, asyncio.Future[bytes | None]] = {}

    def stored(self, partition: int, key: bytes) -> bytes | None:
        """The stored answer of ``key``, if any (and not expired)."""
        return self.memory.get(partition, key)

    def store(self, partition: int, key: bytes, record: Outbound, event_topic: str) -> bytes:
        """Remember an answer; unconfirmed until its changelog record is acked."""
        destination = TO_EVENTS if record.topic == event_topic else TO_DEAD_LETTERS
        stored = self.memory.store(partition, key, record, destination)
        self._unconfirmed.add(key)
        return stored

    def is_confirmed(self, key: bytes) -> bool:
        """Whether the broker acknowledged the changelog record of ``key``."""
        return key not in self._unconfirmed

    def confirm(self, key: bytes) -> None:
        """The changelog record of ``key`` was acknowledged."""
        self._unconfirmed.discard(key)

    def changelog_record(self, partition: int, key: bytes, stored: bytes) -> Outbound:
        """The changelog record of a stored answer (in the command's partition)."""
        return Outbound(self.changelog_topic_name, key, stored, [], partition)

    @staticmethod
    def answer(stored: bytes, event_topic: str, dead_letter_topic: str) -> Outbound:
        """The answer record a stored answer holds."""
        return decode(stored, event_topic, dead_letter_topic)

    def running(self, key: bytes) -> asyncio.Future[bytes | None] | None:
        """The pending answer of a command with this key being executed now, if any."""
        return self._running.get(key)

    def start_running(self, key: bytes) -> asyncio.Future[bytes | None]:
        """Mark ``key`` as executing; resolve the future with its stored answer (or None)."""
        future: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()
        self._running[key] = future
        return future

    def stop_running(self, key: bytes) -> None:
        """``key`` no longer executes."""
        future = self._running.pop(key, None)
        if future is not None and not future.done():
            future.set_result(None)

    def apply_changelog_batch(self, batch: Iterable[Any]) -> None:
        """Recovery: rebuild entries from changelog records (expired ones are skipped)."""
        restore = self.memory.restore
        for event in batch:
            message = event.message
            restore(message.partition, message.key, message.value)

    async def on_rebalance(
        self,
        assigned: set[TP],
        revoked: set[TP],
        newly_assigned: set[TP],
        generation_id: int = 0,
    ) -> None:
        """Forget revoked partitions (their next owner restores them); check that the
        changelog has as many partitions as the command topic."""
        await super().on_rebalance(assigned, revoked, newly_assigned, generation_id)
        changelog = self.changelog_topic_name
        for tp in revoked:
            if tp.topic == changelog:
                self.memory.forget(tp.partition)
        self._check_copartitioned()

    def _check_copartitioned(self) -> None:
        consumer = self.app.consumer
        source = consumer.topic_partitions(self.source_topic)
        changelog = consumer.topic_partitions(self.changelog_topic_name)
        if source is not None and changelog is not None and source != changelog:
            raise EventBusError(
                f"{self.changelog_topic_name} has {changelog} partitions but "
                f"{self.source_topic} has {source}: the answers table must be "
                "co-partitioned with its command topic; set event_bus.config.partitions "
                f"to {source} and recreate the changelog topic with as many partitions"
            )
