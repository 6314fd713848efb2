"""Same-loop Faust consumer: the single member of its group, reading the memory broker."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

from faust.transport import consumer as faust_consumer
from faust.types import TP, ConsumerMessage
from faust.types.transports import PartitionerT

from onex_stream.infra.event_bus.faust_overrides import (
    CommitGuardMixin,
    DirectDrainMixin,
    PromptResumeMixin,
)
from onex_stream.infra.event_bus.partitioner import choose_partition

from .assignment import assign_all
from .broker import MemoryBroker, Record

if TYPE_CHECKING:
    from .transport import Transport

#: Batch cap of one fetch when ``broker_max_poll_records`` is None (Kafka's default).
DEFAULT_MAX_POLL_RECORDS = 500


class MemoryConsumer(
    DirectDrainMixin, CommitGuardMixin, PromptResumeMixin, faust_consumer.Consumer
):
    """Faust consumer owning every partition of its subscribed topics.

    Commits are stored per (group = ``app.conf.id``, TP). A fetch position advances only when
    Faust converts the record into a message (:meth:`_to_message`), so records Faust drops
    mid-batch (a partition paused, flow stopped) are fetched again, not lost.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        conf = self.app.conf
        self._broker: MemoryBroker = cast("Transport", self.transport).broker
        self._group: str = conf.id
        self._max_records: int = conf.broker_max_poll_records or DEFAULT_MAX_POLL_RECORDS
        self._reset_to_latest = conf.consumer_auto_offset_reset == "latest"
        # mypy reads this Param descriptor as a method (see faust/transport/producer.py).
        self._partitioner: PartitionerT | None = conf.producer_partitioner  # type: ignore[misc,assignment]
        self._subscription: set[str] = set()
        self._assignment: set[TP] = set()
        self._positions: dict[TP, int] = {}
        self._generation = 0
        self._fetch_rotation = 0
        self._rebalance_lock = asyncio.Lock()

    async def subscribe(self, topics: Iterable[str]) -> None:
        """Replace the subscription and schedule a rebalance (it must not run in here)."""
        self._subscription = set(topics)
        for topic in self._subscription:
            self._broker.create_topic(topic, self.app.conf.topic_partitions)
        self.add_future(self._rebalance())

    async def _rebalance(self) -> None:
        """Eager rebalance in aiokafka's order: revoke all, assign, bump the generation."""
        async with self._rebalance_lock:
            self.app.on_rebalance_start()
            await self.on_partitions_revoked(set(self._assignment))
            self._assignment = assign_all(self.app, self._broker, self._subscription)
            self._positions = {tp: self._start_position(tp) for tp in self._assignment}
            self._broker.wake()  # lets broker.wait_until(...) observe the new assignment
            self._generation += 1
            self.app.consumer_generation_id = self._generation
            await self.on_partitions_assigned(set(self._assignment), self._generation)

    def _start_position(self, tp: TP) -> int:
        """Return the committed offset, else the ``consumer_auto_offset_reset`` position."""
        committed = self._broker.committed_offset(self._group, tp.topic, tp.partition)
        if committed is not None:
            return committed
        return self.highwater(tp) if self._reset_to_latest else 0

    def assignment(self) -> set[TP]:
        """Return the partitions assigned by the last rebalance."""
        return set(self._assignment)

    async def _getmany(
        self,
        active_partitions: set[TP] | None,
        timeout: float,  # noqa: ASYNC109 -- Faust's signature
    ) -> dict[TP, list[Record]]:
        """Fetch a batch from the active partitions, waiting up to ``timeout`` for data."""
        if not self.flow_active:
            return {}
        batch = self._fetch(active_partitions)
        if not batch:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._broker.wait_for_change()
            if self.flow_active:
                batch = self._fetch(active_partitions)
        return batch

    def _fetch(self, active_partitions: set[TP] | None) -> dict[TP, list[Record]]:
        """Slice up to ``_max_records`` records, starting at a rotating partition for fairness."""
        tps = list(self._assignment if active_partitions is None else active_partitions)
        if not tps:
            return {}
        self._fetch_rotation = start = (self._fetch_rotation + 1) % len(tps)
        budget = self._max_records
        batch: dict[TP, list[Record]] = {}
        for tp in tps[start:] + tps[:start]:
            position = self._positions.get(tp)
            if position is None:
                continue
            records = self._broker.read(tp.topic, tp.partition, position, budget)
            if records:
                batch[tp] = records
                budget -= len(records)
                if not budget:
                    break
        return batch

    def _to_message(self, tp: TP, record: Record) -> ConsumerMessage:
        """Advance the fetch position past ``record`` and wrap it as a Faust message."""
        self._positions[tp] = record.offset + 1
        return ConsumerMessage(
            record.topic,
            record.partition,
            record.offset,
            record.timestamp_ms / 1000.0,
            0,  # timestamp type: CreateTime
            record.headers,
            record.key,
            record.value,
            None,  # checksum
            tp=tp,
            generation_id=self.app.consumer_generation_id,
        )

    async def _commit(self, offsets: Mapping[TP, int]) -> bool:
        """Store the next offset to read for each still-assigned partition."""
        assigned = self._assignment
        self._broker.commit(self._group, {tp: o for tp, o in offsets.items() if tp in assigned})
        return True

    # Faust annotates Mapping[TP, int], but None (never committed) is part of the contract.
    async def seek_to_committed(self) -> dict[TP, int | None]:  # type: ignore[override]
        """Reposition every assigned partition at its committed offset; return those offsets.

        Without a commit the position goes back to 0 (``earliest``) or stays where the
        ``latest`` reset put it.
        """
        committed: dict[TP, int | None] = {}
        for tp in self._assignment:
            offset = self._broker.committed_offset(self._group, tp.topic, tp.partition)
            committed[tp] = offset
            if offset is not None or not self._reset_to_latest:
                self._positions[tp] = offset or 0
        self._broker.wake()
        return committed

    async def _seek(self, partition: TP, offset: int) -> None:
        """Set the fetch position of one partition."""
        self._positions[partition] = offset
        self._broker.wake()

    async def seek_wait(self, partitions: Mapping[TP, int]) -> None:
        """Seek several partitions, resetting Faust's read offsets too (via ``seek``)."""
        for tp, offset in partitions.items():
            await self.seek(tp, offset)

    async def position(self, tp: TP) -> int | None:
        """Return the next offset to fetch from ``tp``, or None if it is not assigned."""
        return self._positions.get(tp)

    def highwater(self, tp: TP) -> int:
        """Return the log end offset of ``tp``."""
        return self._broker.highwater(tp.topic, tp.partition)

    async def highwaters(self, *partitions: TP) -> dict[TP, int]:
        """Return the log end offset of each partition."""
        return {tp: self.highwater(tp) for tp in partitions}

    async def earliest_offsets(self, *partitions: TP) -> dict[TP, int]:
        """Return the log start offset of each partition: always 0 (nothing is deleted)."""
        return dict.fromkeys(partitions, 0)

    def topic_partitions(self, topic: str) -> int | None:
        """Return the partition count of ``topic``, or None if it does not exist."""
        return self._broker.partitions_for(topic)

    def key_partition(
        self, topic: str, key: bytes | None, partition: int | None = None
    ) -> int | None:
        """Return the partition ``key`` maps to in ``topic`` (None if the topic is unknown)."""
        count = self._broker.partitions_for(topic)
        if count is None:
            return None
        if partition is not None:
            return partition
        return choose_partition(key, count, self._partitioner)

    async def create_topic(self, topic: str, partitions: int, replication: int, **_: Any) -> None:
        """Create the topic if it does not exist (replication and config are ignored)."""
        self._broker.create_topic(topic, partitions)

    def _new_topicpartition(self, topic: str, partition: int) -> TP:
        return TP(topic, partition)

    def resume_partitions(self, tps: Iterable[TP]) -> None:
        """Resume fetching from ``tps`` and wake a fetch waiting for data."""
        super().resume_partitions(tps)
        self._broker.wake()

    def on_buffer_drop(self, tp: TP) -> None:
        """Make ``tp`` fetchable again once its stream buffer drained, and wake the fetch."""
        super().on_buffer_drop(tp)
        self._broker.wake()
