"""In-process broker: partitioned logs, committed offsets per group, and change wake-ups."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import NamedTuple
from urllib.parse import urlsplit

from onex_stream.infra.event_bus.partitioner import kafka_partition

#: Partitions given to topics first seen through :meth:`MemoryBroker.append` (Faust's default).
DEFAULT_PARTITIONS = 8


class Record(NamedTuple):
    """One stored record; ``offset`` is its index in the partition's log."""

    topic: str
    partition: int
    offset: int
    timestamp_ms: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]]


#: A record as a log keeps it: a plain tuple of atomic values (headers as a tuple), which
#: the garbage collector stops tracking, so a broker holding many records adds nothing to
#: a collection (as :class:`Record`, each was walked by every full collection).
_Stored = tuple[str, int, int, int, bytes | None, bytes | None, tuple[tuple[str, bytes], ...]]


def _record(stored: _Stored) -> Record:
    topic, partition, offset, timestamp_ms, key, value, headers = stored
    return Record(topic, partition, offset, timestamp_ms, key, value, list(headers))


class BrokerRefusedError(Exception):
    """The broker refused a record (injected with :meth:`MemoryBroker.refuse_appends`)."""


class MemoryBroker:
    """Topics of append-only partition logs (dense offsets from 0) and committed group offsets.

    Holds plain data only; the one loop-bound object, the wake-up future, is created lazily on
    the running loop and replaced when the loop changes. Not thread-safe: call it from the
    thread that runs the event loop.
    """

    def __init__(self, default_partitions: int = DEFAULT_PARTITIONS) -> None:
        self.default_partitions = default_partitions
        self._logs: dict[str, list[list[_Stored]]] = {}
        self._committed: dict[str, dict[tuple[str, int], int]] = {}
        self._changed: asyncio.Future[None] | None = None
        self._refusals: dict[str, int] = {}

    def create_topic(self, name: str, partitions: int) -> int:
        """Create ``name`` with ``partitions`` partitions unless it exists; return its count."""
        logs = self._logs.get(name)
        if logs is not None:
            return len(logs)
        if partitions < 1:
            raise ValueError(f"topic {name!r} needs at least one partition, got {partitions}")
        self._logs[name] = [[] for _ in range(partitions)]
        return partitions

    def topics(self) -> dict[str, int]:
        """Return every topic name with its partition count."""
        return {name: len(logs) for name, logs in self._logs.items()}

    def partitions_for(self, topic: str) -> int | None:
        """Return the partition count of ``topic``, or None if it does not exist."""
        logs = self._logs.get(topic)
        return None if logs is None else len(logs)

    def append(  # noqa: PLR0917 -- positional arguments kept for callers outside Faust
        self,
        topic: str,
        value: bytes | None,
        key: bytes | None = None,
        partition: int | None = None,
        headers: list[tuple[str, bytes]] | None = None,
        timestamp_ms: int | None = None,
    ) -> tuple[int, int]:
        """Append one record and wake waiters; return its ``(partition, offset)``.

        An unknown topic is created with :attr:`default_partitions`. Without ``partition`` the
        key picks it as Kafka's default partitioner does; an explicit one must exist.
        """
        if self._refusals:
            self._maybe_refuse(topic)
        logs = self._logs.get(topic)
        if logs is None:
            self.create_topic(topic, self.default_partitions)
            logs = self._logs[topic]
        if partition is None:
            partition = kafka_partition(key, len(logs))
        elif not 0 <= partition < len(logs):
            raise ValueError(f"topic {topic!r} has no partition {partition} (has {len(logs)})")
        log = logs[partition]
        offset = len(log)
        if timestamp_ms is None:
            timestamp_ms = int(time.time() * 1000)
        kept = tuple(headers) if headers else ()
        log.append((topic, partition, offset, timestamp_ms, key, value, kept))
        if self._changed is not None:
            self.wake()
        return partition, offset

    def refuse_appends(self, topic: str, count: int = 1) -> None:
        """Refuse the next ``count`` appends to ``topic`` (-1: every one, until
        :meth:`accept_appends`), as a broker refusing a produce request would."""
        self._refusals[topic] = count

    def accept_appends(self, topic: str) -> None:
        """Stop refusing appends to ``topic``."""
        self._refusals.pop(topic, None)

    def _maybe_refuse(self, topic: str) -> None:
        left = self._refusals.get(topic)
        if left is None:
            return
        if left > 0:
            if left == 1:
                del self._refusals[topic]
            else:
                self._refusals[topic] = left - 1
        raise BrokerRefusedError(f"broker refused a record for {topic!r}")

    def read(self, topic: str, partition: int, start: int, count: int) -> list[Record]:
        """Return up to ``count`` records of one partition from offset ``start`` on."""
        return [_record(stored) for stored in self._logs[topic][partition][start : start + count]]

    def records(self, topic: str, partition: int, start: int = 0) -> list[Record]:
        """Return a copy of one partition's records from offset ``start`` on."""
        return [_record(stored) for stored in self._logs[topic][partition][start:]]

    def count(self, topic: str) -> int:
        """Return how many records ``topic`` holds across its partitions (0 if unknown)."""
        return sum(len(log) for log in self._logs.get(topic, ()))

    def highwater(self, topic: str, partition: int) -> int:
        """Return the log end offset of one partition: the offset the next record gets."""
        return len(self._logs[topic][partition])

    def end_offsets(self, topic: str) -> dict[int, int]:
        """Return the log end offset of every partition of ``topic``."""
        return {partition: len(log) for partition, log in enumerate(self._logs[topic])}

    def commit(self, group: str, offsets: Mapping[tuple[str, int], int]) -> None:
        """Store, for ``group``, the next offset to read per ``(topic, partition)``."""
        group_offsets = self._committed.setdefault(group, {})
        for (topic, partition), offset in offsets.items():
            group_offsets[(topic, partition)] = offset
        self.wake()

    def committed_offset(self, group: str, topic: str, partition: int) -> int | None:
        """Return the offset ``group`` committed for one partition, or None."""
        return self._committed.get(group, {}).get((topic, partition))

    def committed(self, group: str, topic: str) -> dict[int, int | None]:
        """Return the committed offset of ``group`` for every partition of ``topic``."""
        group_offsets = self._committed.get(group, {})
        return {p: group_offsets.get((topic, p)) for p in range(len(self._logs[topic]))}

    def wake(self) -> None:
        """Wake every coroutine blocked in :meth:`wait_for_change`."""
        changed, self._changed = self._changed, None
        if changed is not None and not changed.done() and not changed.get_loop().is_closed():
            changed.set_result(None)

    async def wait_for_change(self) -> None:
        """Wait for the next append, commit or :meth:`wake` (bound it with ``asyncio.timeout``).

        Consumers also wake it when they rebalance, seek or resume partitions.
        """
        loop = asyncio.get_running_loop()
        changed = self._changed
        if changed is None or changed.get_loop() is not loop:
            changed = self._changed = loop.create_future()
        # asyncio.wait never cancels the shared future, even when this waiter is cancelled.
        await asyncio.wait((changed,))

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        timeout: float,  # noqa: ASYNC109 -- a bounded wait is this helper's contract
    ) -> None:
        """Wait until ``predicate()`` holds, re-checked after every change.

        Raises TimeoutError if it still does not hold after ``timeout`` seconds.
        """
        async with asyncio.timeout(timeout):
            while not predicate():
                await self.wait_for_change()

    async def wait_for_records(
        self,
        topic: str,
        count: int,
        timeout: float = 5.0,  # noqa: ASYNC109 -- a bounded wait is this helper's contract
    ) -> None:
        """Wait until ``topic`` holds at least ``count`` records; TimeoutError otherwise."""
        await self.wait_until(lambda: self.count(topic) >= count, timeout)


_brokers: dict[str, MemoryBroker] = {}


def get_broker(url: str = "memory://") -> MemoryBroker:
    """Return the process-wide broker for ``url``: one per host part (``memory://`` = default)."""
    name = urlsplit(url).hostname or "default"
    broker = _brokers.get(name)
    if broker is None:
        broker = _brokers[name] = MemoryBroker()
    return broker


def reset_brokers() -> None:
    """Forget every broker (for tests); the next :func:`get_broker` starts empty."""
    _brokers.clear()
