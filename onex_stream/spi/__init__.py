"""ONEX SPI: the abstract protocols infra implements (imports core only)."""

from onex_stream.spi.event_bus import (
    EnvelopeCallback,
    IdempotentPredicate,
    InvalidCallback,
    ProtocolEventBus,
)
from onex_stream.spi.handler import ProtocolHandler

__all__ = [
    "EnvelopeCallback",
    "IdempotentPredicate",
    "InvalidCallback",
    "ProtocolEventBus",
    "ProtocolHandler",
]
