"""TransportKind: the SPI's transport kind bound to the Faust app and ``BusSettings``.

Each kind is a package beside this module (``memory/``, ``kafka/``) exposing one
object implementing :class:`~onex_stream.spi.transport_kind.ProtocolTransportKind`;
``infra/runtime/wiring.py`` maps contract kinds to them. Infra declares no protocol of
its own: ``TransportKind`` is an alias, not a new protocol.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, TypeAlias

import faust

from onex_stream.spi.transport_kind import ProtocolTransportKind

if TYPE_CHECKING:
    from onex_stream.infra.event_bus.settings import BusSettings

TransportKind: TypeAlias = ProtocolTransportKind[faust.App, "BusSettings"]


async def declare_topics(app: faust.App, names: Iterable[str], partitions: int) -> None:
    """Create the topics through Faust (idempotent: existing ones are kept)."""
    for name in names:
        await app.topic(name, partitions=partitions).maybe_declare()
