"""The SPI protocols are abstract; infra's implementations and LocalHandler satisfy them."""

from __future__ import annotations

from typing import Any

import pytest

from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.handlers.local import LocalHandler
from onex_stream.core.ports import HandlerPort
from onex_stream.infra.event_bus.faust_bus import FaustEventBus
from onex_stream.infra.handlers.db import DbHandler
from onex_stream.infra.handlers.http import HttpHandler
from onex_stream.spi import ProtocolEventBus, ProtocolHandler


def test_a_handler_missing_methods_cannot_be_instantiated() -> None:
    class Incomplete(ProtocolHandler):
        @property
        def handler_type(self) -> EnumHandlerType:
            return EnumHandlerType.HTTP

    with pytest.raises(TypeError, match="abstract"):
        Incomplete()  # type: ignore[abstract]


def test_an_event_bus_missing_methods_cannot_be_instantiated() -> None:
    class Incomplete(ProtocolEventBus):
        async def health_check(self) -> dict[str, Any]:
            return {}

    with pytest.raises(TypeError, match="abstract"):
        Incomplete()  # type: ignore[abstract]


def test_infra_implements_the_spi_and_local_handler_the_core_port() -> None:
    assert issubclass(HttpHandler, ProtocolHandler)
    assert issubclass(DbHandler, ProtocolHandler)
    assert issubclass(FaustEventBus, ProtocolEventBus)
    assert not hasattr(FaustEventBus, "handler_type")  # a bus is not a handler
    assert isinstance(LocalHandler(), HandlerPort)
    assert HandlerPort in ProtocolHandler.__mro__
