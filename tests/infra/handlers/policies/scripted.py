"""A handler that answers from a script, and helpers shared by the policy tests."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.ports import HandlerResult

Step = BaseException | HandlerResult | float  # raise it, answer it, or sleep that many seconds


class Scripted:
    """Answers each call with the next step of ``script`` (the last step repeats)."""

    supported_operations = frozenset({"http.get", "http.post", "db.query"})

    def __init__(self, *script: Step, handler_type: EnumHandlerType = EnumHandlerType.HTTP):
        self.handler_type = handler_type
        self.script = list(script) or [{"ok": True}]
        self.calls = 0

    async def initialize(self, config: Mapping[str, Any]) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def execute(self, envelope: ModelOnexEnvelope) -> HandlerResult:
        step = self.script[min(self.calls, len(self.script) - 1)]
        self.calls += 1
        if isinstance(step, BaseException):
            raise step
        if isinstance(step, float):
            await asyncio.sleep(step)
            return {"slept": step}
        return step

    async def health_check(self) -> dict[str, Any]:
        return {"healthy": True, "handler_type": self.handler_type.value}

    def describe(self) -> dict[str, Any]:
        return {"handler_type": self.handler_type.value}


class Clock:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Sleeps:
    """An injected sleep that records the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
