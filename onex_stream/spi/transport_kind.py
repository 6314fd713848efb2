"""ProtocolTransportKind: what the event bus needs from one kind of broker (``event_bus.kind``).

The protocol is generic over the application that consumes (``AppT_contra``) and the
bus settings (``SettingsT_contra``): the SPI names neither (they belong to infra, which
binds them to the Faust app and ``BusSettings``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol, TypeVar

from onex_stream.core.contracts import ModelEventBusSettings
from onex_stream.spi.event_bus import OffsetSource

AppT_contra = TypeVar("AppT_contra", contravariant=True)
SettingsT_contra = TypeVar("SettingsT_contra", contravariant=True)


class ProtocolTransportKind(Protocol[AppT_contra, SettingsT_contra]):
    """Broker URL and options, topic preparation and offsets of one kind of broker."""

    name: str

    def settings(self, config: ModelEventBusSettings, env: Mapping[str, str]) -> dict[str, Any]:
        """Bus settings values of this kind (``broker_url`` at least; the consuming
        application's own options under ``faust_options``)."""

    async def prepare_topics(
        self, app: AppT_contra, settings: SettingsT_contra, names: Iterable[str]
    ) -> None:
        """Make sure the host's topics exist before consumption starts, or fail."""

    def offset_source(self, settings: SettingsT_contra) -> OffsetSource:
        """A source of log end and committed offsets for the lag gauges."""
