"""Every registered handler class reports the EnumHandlerType it is registered under."""

from __future__ import annotations

import pytest

from onex_stream.core.enums import EnumHandlerType
from onex_stream.dev import DEV_HANDLERS
from onex_stream.infra.runtime.wiring import HANDLER_REGISTRY, HandlerClass
from onex_stream.spi import ProtocolHandler

REGISTERED = [
    *((key, cls, "production") for key, cls in HANDLER_REGISTRY.items()),
    *((key, cls, "dev/test") for key, cls in DEV_HANDLERS.items()),
]


@pytest.mark.parametrize(
    ("key", "cls", "registry"), REGISTERED, ids=[f"{r}:{k.value}" for k, _, r in REGISTERED]
)
def test_each_registered_handler_returns_its_registry_key_as_handler_type(
    key: EnumHandlerType, cls: HandlerClass, registry: str
) -> None:
    handler = cls()  # wiring instantiates handlers without arguments
    assert isinstance(handler.handler_type, EnumHandlerType)
    assert handler.handler_type is key, f"{cls.__name__} in the {registry} registry"


@pytest.mark.parametrize("cls", HANDLER_REGISTRY.values(), ids=lambda cls: cls.__name__)
def test_every_production_handler_implements_the_spi_handler_protocol(cls: HandlerClass) -> None:
    assert issubclass(cls, ProtocolHandler)


def test_every_handler_type_is_registered_at_most_once_across_registries() -> None:
    assert not set(HANDLER_REGISTRY) & set(DEV_HANDLERS)
