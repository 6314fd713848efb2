"""The handler port NodeRuntime depends on (``spi.ProtocolHandler`` extends it)."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.envelope import ModelOnexEnvelope

HandlerResult = dict[str, Any] | None


@runtime_checkable
class HandlerPort(Protocol):
    """What the runtime needs of a handler; see ``onex_stream.spi.ProtocolHandler``."""

    @property
    @abstractmethod
    def handler_type(self) -> EnumHandlerType:
        """The handler's type (an enum, never a plain string)."""

    @property
    @abstractmethod
    def supported_operations(self) -> frozenset[str]:
        """Dotted operations this handler performs, e.g. ``http.get``."""

    @abstractmethod
    async def initialize(self, config: Mapping[str, Any]) -> None:
        """Acquire resources (pools, clients); called once before any execute."""

    @abstractmethod
    async def shutdown(self) -> None:
        """Release resources; called exactly once."""

    @abstractmethod
    async def execute(self, envelope: ModelOnexEnvelope) -> HandlerResult:
        """Perform ``envelope.operation``; return the response payload.

        Failures raise a ``RuntimeHostError`` subclass; the runtime turns the
        payload or the error into the response envelope.
        """

    @abstractmethod
    async def health_check(self) -> dict[str, Any]:
        """Structured health, with at least ``healthy: bool``."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """Operations, required payload fields and response shape."""
