"""A LocalHandler that can be slow on purpose, for tests of in-flight work."""

from __future__ import annotations

import asyncio
import logging

from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.handlers.local import LocalHandler
from onex_stream.core.ports import HandlerResult

logger = logging.getLogger(__name__)
LOGGED_DELAY_MS = 1000  # long waits are logged, so a test can see them start


class DelayedLocalHandler(LocalHandler):
    """LocalHandler that first sleeps ``payload.delay_ms`` milliseconds."""

    async def execute(self, envelope: ModelOnexEnvelope) -> HandlerResult:
        delay_ms = (envelope.payload or {}).get("delay_ms", 0)
        if delay_ms >= LOGGED_DELAY_MS:
            logger.info("DelayedLocalHandler waits %s ms", delay_ms)
        if delay_ms:
            await asyncio.sleep(delay_ms / 1000)
        return await super().execute(envelope)
