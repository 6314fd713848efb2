"""HandlerDecorator: the pass-through base of every handler wrapper (metrics, resilience)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.ports import HandlerPort, HandlerResult


class HandlerDecorator(HandlerPort):
    """A handler that delegates every member to ``inner``.

    A wrapper extends it and overrides only what it changes (usually ``execute``), so
    wrappers stack: ``Retrying(Instrumented(DbHandler()))``.
    """

    def __init__(self, inner: HandlerPort) -> None:
        self.inner = inner

    @cached_property  # declared by the handler: looked up once, not per envelope
    def handler_type(self) -> EnumHandlerType:
        """The wrapped handler's type."""
        return self.inner.handler_type

    @cached_property
    def supported_operations(self) -> frozenset[str]:
        """The wrapped handler's operations."""
        return self.inner.supported_operations

    async def initialize(self, config: Mapping[str, Any]) -> None:
        """Initialize the wrapped handler."""
        await self.inner.initialize(config)

    async def shutdown(self) -> None:
        """Shut the wrapped handler down."""
        await self.inner.shutdown()

    async def execute(self, envelope: ModelOnexEnvelope) -> HandlerResult:
        """The wrapped handler's answer."""
        return await self.inner.execute(envelope)

    async def health_check(self) -> dict[str, Any]:
        """The wrapped handler's health."""
        return await self.inner.health_check()

    def describe(self) -> dict[str, Any]:
        """The wrapped handler's description."""
        return self.inner.describe()
