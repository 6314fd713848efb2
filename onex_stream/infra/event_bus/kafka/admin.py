"""Kafka admin reads: which topics exist, and the offsets the lag gauges show."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from onex_stream.core.errors import EventBusError
from onex_stream.spi.event_bus import Partition


async def existing_topics(bootstrap_servers: str, **auth: Any) -> set[str]:
    """The topics of the cluster; EventBusError when it cannot be reached."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **auth)
    try:
        await admin.start()
        return set(await admin.list_topics())
    except KafkaError as exc:
        raise EventBusError(
            f"cannot reach Kafka at {bootstrap_servers}: {type(exc).__name__}"
        ) from None
    finally:
        await admin.close()


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
