"""HostApp: a Faust app that runs the host's hooks around Faust's own start and stop."""

from __future__ import annotations

import gc
import logging
import threading
from collections.abc import Awaitable, Callable
from functools import cached_property
from typing import Any

import faust
from faust.utils.terminal import SpinnerHandler

from onex_stream.infra.event_bus.faust_overrides import (
    BoundedWaitEmptyMixin,
    HeldStreamsMixin,
    ProducerEbbMixin,
)
from onex_stream.infra.event_bus.stop_deadline import arm_stop_deadline

Hook = Callable[[], Awaitable[None]]


class HostApp(HeldStreamsMixin, BoundedWaitEmptyMixin, ProducerEbbMixin, faust.App):
    """Faust app with three hook lists.

    ``startup_hooks`` run before any agent starts (prepare topics, initialize
    handlers); ``ready_hooks`` once partitions are assigned and consumption runs;
    ``shutdown_hooks`` after agents, consumer and producer stopped (in-flight work
    finished, offsets committed) — so handlers are shut down last, exactly once.
    """

    def __init__(
        self, *args: Any, shutdown_grace: float = 30.0, contract_origin: str = "", **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.shutdown_grace = shutdown_grace
        self.contract_origin = contract_origin  # file:line of event_bus, for start faults
        self.startup_hooks: list[Hook] = []
        self.ready_hooks: list[Hook] = []
        self.shutdown_hooks: list[Hook] = []
        self.owns_process = False  # worker processes only: never in a test's process
        self._deadline: threading.Timer | None = None

    async def on_start(self) -> None:
        """Faust's start, then the startup hooks (before agents start).

        Faust's Monitor sensor is dropped: it costs about 15% of throughput and
        the host's own metrics replace it.
        """
        self.sensors.remove(self.monitor)
        await super().on_start()
        for hook in self.startup_hooks:
            await hook()

    async def on_stop(self) -> None:
        """Arm the stop deadline (worker processes), then Faust's stop."""
        if self.owns_process and self._deadline is None:
            self._deadline = arm_stop_deadline(self.shutdown_grace, self.uncommitted)
        await super().on_stop()

    def create_event(self, key: Any, value: Any, headers: Any, message: Any) -> Any:
        """Faust's, with the event class looked up once rather than per record."""
        return self._event_class(self, key, value, headers, message)

    @cached_property
    def _event_class(self) -> Any:
        return self.conf.Event

    def uncommitted(self) -> int:
        """Records delivered and not committed (the commit guard's count; 0 without it)."""
        count = getattr(self.consumer, "uncommitted", None)
        return int(count()) if callable(count) else 0

    async def on_started(self) -> None:
        """Faust's started, then the ready hooks; in a worker process of its own, the
        objects of the start then leave the garbage collector's passes (``gc.freeze``).

        They are most of a worker's objects (Faust, aiokafka, pydantic schemas, the
        contracts) and live as long as it: left in, each full collection walked them all,
        a pause of up to ~100 ms that every envelope in flight waited out.
        """
        await super().on_started()
        _restore_root_log_level()
        for hook in self.ready_hooks:
            await hook()
        if self.owns_process:
            gc.collect()  # what is garbage now is not frozen with the rest
            gc.freeze()

    async def on_shutdown(self) -> None:
        """Faust's shutdown, then the shutdown hooks; the stop is over: no deadline."""
        await super().on_shutdown()
        for hook in self.shutdown_hooks:
            await hook()
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None


def _restore_root_log_level() -> None:
    """Undo ``faust worker``'s root logger at DEBUG (set for its start-up spinner).

    Left at DEBUG, every ``logger.debug`` call builds a record even though no
    handler prints it: about 15% of a worker's CPU (see the performance notes).
    """
    root = logging.getLogger()
    levels = [h.level for h in root.handlers if not isinstance(h, SpinnerHandler)]
    if levels and root.level < min(levels):
        root.setLevel(min(levels))
