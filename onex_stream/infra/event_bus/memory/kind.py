"""``event_bus.kind: inmemory``: the in-process ``memory://`` broker."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from onex_stream.core.contracts import ModelEventBusSettings
from onex_stream.infra.event_bus.transport_kind import TransportKind, declare_topics

from .broker import get_broker
from .offsets import MemoryOffsets

if TYPE_CHECKING:
    import faust

    from onex_stream.infra.event_bus.settings import BusSettings


class MemoryKind(TransportKind):
    """Topics are created on demand; offsets come from the broker object itself."""

    name = "inmemory"

    def settings(self, config: ModelEventBusSettings, env: Mapping[str, str]) -> dict[str, Any]:
        """The default broker of this process."""
        return {"broker_url": "memory://"}

    async def prepare_topics(
        self, app: faust.App, settings: BusSettings, names: Iterable[str]
    ) -> None:
        """Create every topic."""
        await declare_topics(app, names, settings.partitions)

    def offset_source(self, settings: BusSettings) -> MemoryOffsets:
        """The broker named by the bus's URL."""
        return MemoryOffsets(get_broker(settings.broker_url))


MEMORY = MemoryKind()
