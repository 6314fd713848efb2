"""BatchPipeline: an agent's batches answered concurrently, a bounded number at a time.

A batch holding a slow envelope no longer holds back the batches after it (head-of-line
blocking): each is answered in a task of its own while the agent takes the next. Acks
stay per envelope and the commit guard commits only below the lowest unanswered offset,
so at-least-once holds whatever order batches finish in.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

OnFailure = Callable[[Exception], Awaitable[None]]


class BatchPipeline:
    """Runs at most ``depth`` batch coroutines, of at most ``max_envelopes`` envelopes in
    all (a larger batch runs alone), at once; the first failure stops it and is handed to
    ``on_failure`` at once."""

    def __init__(self, depth: int, on_failure: OnFailure, max_envelopes: int | None = None) -> None:
        self._depth = depth
        self._max_envelopes = max_envelopes
        self._on_failure = on_failure
        self._running: dict[asyncio.Task[None], int] = {}  # batch -> its envelopes
        self._envelopes = 0
        self.failed = False
        self._stopping: asyncio.Future[None] | None = None

    async def put(self, batch: Coroutine[Any, Any, None], envelopes: int = 1) -> bool:
        """Start ``batch`` (of ``envelopes``) once there is room; False, and ``batch`` not
        run, once a batch failed."""
        while self._running and not self.failed and self._full(envelopes):
            await asyncio.wait(self._running, return_when=asyncio.FIRST_COMPLETED)
        if self.failed:
            batch.close()
            return False
        task = asyncio.ensure_future(batch)
        self._running[task] = envelopes
        self._envelopes += envelopes
        task.add_done_callback(self._done)
        return True

    def _full(self, envelopes: int) -> bool:
        limit = self._max_envelopes
        return len(self._running) >= self._depth or (
            limit is not None and self._envelopes + envelopes > limit
        )

    def _done(self, task: asyncio.Task[None]) -> None:
        self._envelopes -= self._running.pop(task, 0)
        exc = None if task.cancelled() else task.exception()
        if isinstance(exc, Exception) and not self.failed:
            self.failed = True
            self._stopping = asyncio.ensure_future(self._on_failure(exc))

    def cancel(self) -> None:
        """Cancel the batches still running (their envelopes stay unacked: delivered again)."""
        for task in list(self._running):
            task.cancel()
