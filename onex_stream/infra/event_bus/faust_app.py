"""HostApp: a Faust app that runs the host's hooks around Faust's own start and stop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import faust
from faust.utils.terminal import SpinnerHandler

Hook = Callable[[], Awaitable[None]]


class HostApp(faust.App):
    """Faust app with three hook lists.

    ``startup_hooks`` run before any agent starts (prepare topics, initialize
    handlers); ``ready_hooks`` once partitions are assigned and consumption runs;
    ``shutdown_hooks`` after agents, consumer and producer stopped (in-flight work
    finished, offsets committed) — so handlers are shut down last, exactly once.
    """

    def __init__(self, *args: Any, shutdown_grace: float = 30.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.shutdown_grace = shutdown_grace
        self.startup_hooks: list[Hook] = []
        self.ready_hooks: list[Hook] = []
        self.shutdown_hooks: list[Hook] = []

    async def on_start(self) -> None:
        """Faust's start, then the startup hooks (before agents start).

        Faust's Monitor sensor is dropped: it costs about 15% of throughput and
        the host's own metrics replace it.
        """
        self.sensors.remove(self.monitor)
        await super().on_start()
        for hook in self.startup_hooks:
            await hook()

    async def on_started(self) -> None:
        """Faust's started, then the ready hooks."""
        await super().on_started()
        _restore_root_log_level()
        for hook in self.ready_hooks:
            await hook()

    async def _consumer_wait_empty(self, consumer: Any, logger: Any) -> None:
        """Wait for in-flight events (on stop and on revoke), at most ``shutdown_grace``.

        Faust's own wait has no limit (and runs again in ``Consumer.on_stop``), so
        the app is built with ``stream_wait_empty=False`` and waits here instead.
        ``Consumer.wait_empty`` swallows cancellation, so on timeout it is left to
        end by itself once the consumer stops. What is not finished in time is not
        committed and will be delivered again.
        """
        logger.info("Wait for in-flight envelopes (at most %.1f s)...", self.shutdown_grace)
        waiting = asyncio.ensure_future(consumer.wait_empty())
        done, _ = await asyncio.wait({waiting}, timeout=self.shutdown_grace)
        if not done:
            logger.warning(
                "in-flight envelopes not finished within %.1f s: not committed, "
                "they will be delivered again",
                self.shutdown_grace,
            )

    async def on_shutdown(self) -> None:
        """Faust's shutdown, then the shutdown hooks."""
        await super().on_shutdown()
        for hook in self.shutdown_hooks:
            await hook()


def _restore_root_log_level() -> None:
    """Undo ``faust worker``'s root logger at DEBUG (set for its start-up spinner).

    Left at DEBUG, every ``logger.debug`` call builds a record even though no
    handler prints it: about 15% of a worker's CPU (see the performance notes).
    """
    root = logging.getLogger()
    levels = [h.level for h in root.handlers if not isinstance(h, SpinnerHandler)]
    if levels and root.level < min(levels):
        root.setLevel(min(levels))
