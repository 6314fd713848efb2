"""TransportKind: what the host needs from one kind of broker (``event_bus.kind``).

Each kind is a package beside this module (``memory/``, ``kafka/``) exposing one
object of this shape; ``infra/runtime/wiring.py`` maps contract kinds to them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Protocol

from onex_stream.core.contracts import ModelEventBusSettings
from onex_stream.spi.event_bus import OffsetSource

if TYPE_CHECKING:
    import faust

    from onex_stream.infra.event_bus.settings import BusSettings


class TransportKind(Protocol):
    """Broker URL and options, topic preparation and offsets of one kind of broker."""

    name: str

    def settings(self, config: ModelEventBusSettings, env: Mapping[str, str]) -> dict[str, Any]:
        """``BusSettings`` values of this kind (``broker_url`` at least; Faust options
        under ``faust_options``)."""

    async def prepare_topics(
        self, app: faust.App, settings: BusSettings, names: Iterable[str]
    ) -> None:
        """Make sure the host's topics exist before consumption starts, or fail."""

    def offset_source(self, settings: BusSettings) -> OffsetSource:
        """A source of log end and committed offsets for the lag gauges."""


async def declare_topics(app: faust.App, names: Iterable[str], partitions: int) -> None:
    """Create the topics through Faust (idempotent: existing ones are kept)."""
    for name in names:
        await app.topic(name, partitions=partitions).maybe_declare()
