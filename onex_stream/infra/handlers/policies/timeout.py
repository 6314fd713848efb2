"""TimeoutHandler: HANDLER_TIMEOUT when one call of the wrapped handler exceeds timeout_ms."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Generator
from typing import Any

from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.errors import HandlerTimeoutError
from onex_stream.core.ports import HandlerPort, HandlerResult
from onex_stream.infra.handlers.decorator import HandlerDecorator


class TimeoutHandler(HandlerDecorator):
    """Bounds every ``execute`` (one attempt: it sits inside the retry policy).

    A call that answers without suspending (no I/O: nothing a timeout could interrupt)
    costs no timer; one that suspends gets a deadline counted from its start.
    """

    def __init__(self, inner: HandlerPort, timeout_ms: int) -> None:
        super().__init__(inner)
        self.timeout_ms = timeout_ms

    async def execute(self, envelope: ModelOnexEnvelope) -> HandlerResult:
        """The inner answer, or ``HandlerTimeoutError`` after ``timeout_ms``."""
        started = asyncio.get_running_loop().time()
        call = self.inner.execute(envelope)
        try:
            suspended_on = call.send(None)
        except StopIteration as answered:
            result: HandlerResult = answered.value
            return result
        budget = asyncio.timeout_at(started + self.timeout_ms / 1000)
        try:
            async with budget:
                return await _Resumed(call, suspended_on)
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


class _Resumed:
    """Awaits the rest of a coroutine already run up to its first suspension."""

    def __init__(self, call: Coroutine[Any, Any, HandlerResult], suspended_on: Any) -> None:
        self._call, self._suspended_on = call, suspended_on

    def __await__(self) -> Generator[Any, Any, HandlerResult]:
        call, waiting = self._call, self._suspended_on
        while True:
            try:
                try:
                    sent = yield waiting
                except GeneratorExit:
                    call.close()
                    raise
                except BaseException as exc:  # cancellation (the deadline) goes to the call
                    waiting = call.throw(exc)
                else:
                    waiting = call.send(sent)
            except StopIteration as answered:
                result: HandlerResult = answered.value
                return result
