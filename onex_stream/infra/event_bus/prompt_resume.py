"""Resume fetching as soon as a full stream buffer drains, not a second later.

When every assigned partition is paused because the agent's buffer is full
(backpressure), Faust's fetch loop sleeps 1 s before looking again
(``faust/transport/consumer.py`` ``_wait_next_records``), although the buffer
usually drains within milliseconds: a slow handler then leaves the worker idle
most of the time. This mixin makes that wait end when a buffer drops below its
low-water mark (``on_buffer_drop``), so consumption resumes at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

IDLE_WAIT_SECONDS = 1.0  # Faust's own wait, kept as the upper bound


class PromptResumeMixin:
    """Mix into a Faust ``Consumer`` subclass (before the Faust class)."""

    _buffer_drained: asyncio.Event | None = None

    def on_buffer_drop(self, tp: Any) -> None:
        """Faust's bookkeeping, then wake the fetch loop."""
        super().on_buffer_drop(tp)  # type: ignore[misc]
        if self._buffer_drained is not None:
            self._buffer_drained.set()

    async def _wait_next_records(self, timeout: float) -> Any:  # noqa: ASYNC109 -- Faust API
        consumer: Any = self
        if consumer.flow_active and not consumer._get_active_partitions():
            drained = self._buffer_drained = self._buffer_drained or asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(drained.wait(), IDLE_WAIT_SECONDS)
            drained.clear()
        return await super()._wait_next_records(timeout)  # type: ignore[misc]
