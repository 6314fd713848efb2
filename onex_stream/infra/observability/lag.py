"""Consumer lag from the broker's own offsets: log end minus committed, per partition."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from onex_stream.infra.event_bus.memory import MemoryBroker
from onex_stream.infra.observability.metrics import HostMetrics

logger = logging.getLogger(__name__)
Partition = tuple[str, int]


class OffsetSource(Protocol):
    """Where log end and committed offsets come from."""

    async def offsets(
        self, group: str, partitions: Iterable[Partition]
    ) -> dict[Partition, tuple[int, int | None]]:
        """(log end offset, committed offset or None) per partition."""

    async def close(self) -> None:
        """Release connections."""


class MemoryOffsets:
    """Offsets of the in-process ``memory://`` broker."""

    def __init__(self, broker: MemoryBroker) -> None:
        self.broker = broker

    async def offsets(
        self, group: str, partitions: Iterable[Partition]
    ) -> dict[Partition, tuple[int, int | None]]:
        """Read straight from the broker's logs and group offsets."""
        return {
            (topic, p): (
                self.broker.highwater(topic, p),
                self.broker.committed_offset(group, topic, p),
            )
            for topic, p in partitions
        }

    async def close(self) -> None:
        """Nothing to release."""


class KafkaOffsets:
    """Offsets asked from Kafka: ListOffsets for log ends, OffsetFetch for the group."""

    def __init__(self, bootstrap_servers: str, auth: Mapping[str, Any]) -> None:
        self._settings = {"bootstrap_servers": bootstrap_servers, **auth}
        self._clients: tuple[AIOKafkaConsumer, AIOKafkaAdminClient] | None = None

    async def offsets(
        self, group: str, partitions: Iterable[Partition]
    ) -> dict[Partition, tuple[int, int | None]]:
        """Ask the cluster (both requests are cheap metadata calls)."""
        consumer, admin = await self._connected()
        tps = [TopicPartition(topic, p) for topic, p in partitions]
        ends = await consumer.end_offsets(tps)
        committed = await admin.list_consumer_group_offsets(group, partitions=tps)
        return {
            (tp.topic, tp.partition): (
                ends[tp],
                committed[tp].offset if tp in committed and committed[tp].offset >= 0 else None,
            )
            for tp in tps
        }

    async def close(self) -> None:
        """Close both clients."""
        if self._clients is not None:
            consumer, admin = self._clients
            await consumer.stop()
            await admin.close()

    async def _connected(self) -> tuple[AIOKafkaConsumer, AIOKafkaAdminClient]:
        # aiokafka clients bind to the running loop: create them on first use.
        if self._clients is None:
            consumer = AIOKafkaConsumer(**self._settings)
            admin = AIOKafkaAdminClient(**self._settings)
            await consumer.start()
            await admin.start()
            self._clients = consumer, admin
        return self._clients


class LagMonitor:
    """Refreshes the lag, committed and log-end gauges for the partitions it is given."""

    def __init__(self, source: OffsetSource, metrics: HostMetrics, group: str) -> None:
        self.source = source
        self.metrics = metrics
        self.group = group
        self.lag: dict[Partition, int] = {}

    async def refresh(self, partitions: Iterable[Partition]) -> None:
        """Query the offsets once; a broker error is logged and the gauges kept."""
        partitions = sorted(partitions)
        try:
            offsets = await self.source.offsets(self.group, partitions)
        except KafkaError as exc:
            logger.warning("consumer lag not refreshed: %s", type(exc).__name__)
            return
        for topic, partition in set(self.lag) - set(offsets):  # revoked: drop the series
            labels = (self.group, topic, str(partition))
            for gauge in (
                self.metrics.log_end_offset,
                self.metrics.committed_offset,
                self.metrics.consumer_lag,
            ):
                gauge.remove(*labels)
        self.lag = {}
        for (topic, partition), (end, committed) in offsets.items():
            labels = (self.group, topic, str(partition))
            lag = end - (committed or 0)
            self.lag[(topic, partition)] = lag
            self.metrics.log_end_offset.labels(*labels).set(end)
            self.metrics.committed_offset.labels(*labels).set(committed or 0)
            self.metrics.consumer_lag.labels(*labels).set(lag)
