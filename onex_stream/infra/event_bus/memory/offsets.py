"""The offsets the lag gauges show, read straight from the in-process broker."""

from __future__ import annotations

from collections.abc import Iterable

from onex_stream.spi.event_bus import Partition

from .broker import MemoryBroker


class MemoryOffsets:
    """Offsets of the in-process ``memory://`` broker."""

    def __init__(self, broker: MemoryBroker) -> None:
        self.broker = broker

    async def offsets(
        self, group: str, partitions: Iterable[Partition]
    ) -> dict[Partition, tuple[int, int | None]]:
        """Read the broker's logs and group offsets."""
        return {
            (topic, p): (
                self.broker.highwater(topic, p),
                self.broker.committed_offset(group, topic, p),
            )
            for topic, p in partitions
        }

    async def close(self) -> None:
        """Nothing to release."""
