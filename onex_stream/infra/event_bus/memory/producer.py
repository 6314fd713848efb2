"""Faust producer appending straight to the memory broker's logs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, cast

from faust.exceptions import ProducerSendError
from faust.transport import producer as faust_producer
from faust.types import TP, HeadersArg, RecordMetadata

from onex_stream.infra.event_bus.partitioner import choose_partition
from onex_stream.infra.event_bus.records import Outbound, encoded_size

from .broker import BrokerRefusedError, MemoryBroker

if TYPE_CHECKING:
    from .transport import Transport


class MemoryProducer(faust_producer.Producer):
    """Appends each record to its partition log before the future returned by ``send`` resolves.

    Keeps Faust's ``ProducerBuffer`` (started by the base ``on_start``), which publishes
    ``send_soon`` messages such as table changelog writes.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._broker: MemoryBroker = cast("Transport", self.transport).broker
        self._topic_partitions: int = self.app.conf.topic_partitions
        self._on_produce_message = self.app.on_produce_message.send
        self._max_request_size: int = self.app.conf.producer_max_request_size

    async def send(  # noqa: PLR0917 -- Faust's signature
        self,
        topic: str,
        key: bytes | None,
        value: bytes | None,
        partition: int | None,
        timestamp: float | None,
        headers: HeadersArg,
        *,
        transactional_id: str | None = None,
    ) -> asyncio.Future[RecordMetadata]:
        """Append the record now; return a resolved future holding its ``RecordMetadata``.

        A topic seen for the first time is created with ``topic_partitions`` partitions.
        ``timestamp`` is in seconds (None or 0 means now); ``headers`` a mapping or a list.
        As with aiokafka, a record over ``producer_max_request_size`` raises
        ``ProducerSendError`` here, and a record the broker refuses fails the future.
        """
        if isinstance(headers, Mapping):
            headers = list(headers.items())
        size = encoded_size(Outbound(topic, key, value, headers or []))
        if size > self._max_request_size:
            raise ProducerSendError(
                f"record of {size} bytes exceeds max_request_size {self._max_request_size}"
            )
        self._on_produce_message(
            key=key, value=value, partition=partition, timestamp=timestamp, headers=headers
        )
        broker = self._broker
        count = broker.create_topic(topic, self._topic_partitions)
        if partition is None:
            partition = choose_partition(key, count, self.partitioner)
        timestamp_ms = int(timestamp * 1000) if timestamp else int(time.time() * 1000)
        future: asyncio.Future[RecordMetadata] = self.loop.create_future()
        try:
            partition, offset = broker.append(topic, value, key, partition, headers, timestamp_ms)
        except BrokerRefusedError as exc:
            future.set_exception(ProducerSendError(f"Error while sending: {exc!r}"))
            return future
        future.set_result(
            RecordMetadata(topic, partition, TP(topic, partition), offset, timestamp_ms / 1000, 0)
        )
        return future

    async def send_and_wait(self, *args: Any, **kwargs: Any) -> RecordMetadata:
        """Send the record and return its ``RecordMetadata``."""
        return await (await self.send(*args, **kwargs))

    async def flush(self) -> None:
        """Publish everything still waiting in the ``ProducerBuffer``."""
        await self.buffer.flush()

    async def create_topic(self, topic: str, partitions: int, replication: int, **_: Any) -> None:
        """Create the topic if it does not exist (replication and config are ignored)."""
        self._broker.create_topic(topic, partitions)

    def key_partition(self, topic: str, key: bytes | None) -> TP:
        """Return the partition ``key`` is produced to (the topic need not exist yet)."""
        count = self._broker.partitions_for(topic) or self._topic_partitions
        return TP(topic, choose_partition(key, count, self.partitioner))

    def supports_headers(self) -> bool:
        """Headers are stored with every record."""
        return True
