"""A LocalHandler that counts its executions per envelope_id (and can be slow)."""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import ClassVar
from uuid import UUID

from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.handlers.local import LocalHandler
from onex_stream.core.ports import HandlerResult


class CountingLocalHandler(LocalHandler):
    """LocalHandler recording every ``execute`` in ``executions`` (shared by instances:
    a restarted host counts into the same Counter); ``payload.delay_ms`` delays it."""

    executions: ClassVar[Counter[UUID]] = Counter()

    async def execute(self, envelope: ModelOnexEnvelope) -> HandlerResult:
        CountingLocalHandler.executions[envelope.envelope_id] += 1
        delay_ms = (envelope.payload or {}).get("delay_ms", 0)
        if delay_ms:
            await asyncio.sleep(delay_ms / 1000)
        return await super().execute(envelope)
