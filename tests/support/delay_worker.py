"""A worker app for tests: the host of ``$ONEX_CONTRACT`` whose local handler can wait.

``faust -A tests.support.delay_worker worker``; ``local.echo`` waits
``payload.delay_ms`` before answering, so tests can hold work in flight.
"""

from __future__ import annotations

import asyncio
import logging
import os

from onex_stream.bootstrap import build_host, faust_app
from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.handlers.local import LocalHandler
from onex_stream.core.ports import HandlerResult

logger = logging.getLogger(__name__)


class DelayedLocalHandler(LocalHandler):
    """LocalHandler that first sleeps ``payload.delay_ms`` milliseconds."""

    async def execute(self, envelope: ModelOnexEnvelope) -> HandlerResult:
        delay_ms = (envelope.payload or {}).get("delay_ms", 0)
        if delay_ms:
            logger.info("DelayedLocalHandler waits %s ms", delay_ms)
            await asyncio.sleep(delay_ms / 1000)
        return await super().execute(envelope)


app = faust_app(
    build_host(
        os.environ["ONEX_CONTRACT"], extra_handlers={EnumHandlerType.LOCAL: DelayedLocalHandler}
    )
)
