"""A LocalHandler that tests can hold back and mark unhealthy."""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.handlers.local import LocalHandler
from onex_stream.core.ports import HandlerResult


class HeldLocalHandler(LocalHandler):
    """``local.echo`` waits until ``release`` is set; ``healthy`` drives its health check.

    State is on the class because wiring instantiates handlers; call ``reset()``
    at the start of each test.
    """

    release: ClassVar[asyncio.Event]
    healthy: ClassVar[bool] = True

    @classmethod
    def reset(cls) -> None:
        """Start held back and healthy."""
        cls.release = asyncio.Event()
        cls.healthy = True

    async def execute(self, envelope: ModelOnexEnvelope) -> HandlerResult:
        """Wait for ``release``, then behave like LocalHandler."""
        await self.release.wait()
        return await super().execute(envelope)

    async def health_check(self) -> dict[str, Any]:
        """LocalHandler's health, overridden by ``healthy``."""
        return {**await super().health_check(), "healthy": self.healthy}
