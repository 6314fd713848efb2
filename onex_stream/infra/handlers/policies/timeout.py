"""TimeoutHandler: HANDLER_TIMEOUT when one call of the wrapped handler exceeds timeout_ms."""

from __future__ import annotations

import asyncio

from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.errors import HandlerTimeoutError
from onex_stream.core.ports import HandlerPort, HandlerResult
from onex_stream.infra.handlers.decorator import HandlerDecorator


class TimeoutHandler(HandlerDecorator):
    """Bounds every ``execute`` (one attempt: it sits inside the retry policy)."""

    def __init__(self, inner: HandlerPort, timeout_ms: int) -> None:
        super().__init__(inner)
        self.timeout_ms = timeout_ms

    async def execute(self, envelope: ModelOnexEnvelope) -> HandlerResult:
        """The inner answer, or ``HandlerTimeoutError`` after ``timeout_ms``."""
        budget = asyncio.timeout(self.timeout_ms / 1000)
        try:
            async with budget:
                return await self.inner.execute(envelope)
        except TimeoutError:
            if not budget.expired():
                raise
            raise HandlerTimeoutError(
                f"no answer within {self.timeout_ms} ms",
                correlation_id=envelope.correlation_id,
                handler_type=self.handler_type.value,
                operation=envelope.operation,
                details={"timeout_ms": self.timeout_ms},
            ) from None
