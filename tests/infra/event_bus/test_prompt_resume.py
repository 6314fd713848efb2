"""PromptResumeMixin: a paused fetch loop wakes when a buffer drains, not a second later."""

from __future__ import annotations

import asyncio
from typing import Any

from onex_stream.infra.event_bus.faust_overrides import PromptResumeMixin


class FakeConsumer:
    """The slice of Faust's Consumer the mixin relies on; base calls are recorded."""

    def __init__(self) -> None:
        self.flow_active = True
        self.active: set[str] = set()
        self.calls: list[str] = []

    def _get_active_partitions(self) -> set[str]:
        return self.active

    def on_buffer_drop(self, tp: Any) -> None:
        self.calls.append(f"drop:{tp}")
        self.active.add(tp)

    async def _wait_next_records(self, timeout: float) -> Any:  # noqa: ASYNC109 -- Faust API
        self.calls.append("fetch")
        return {}, self.active


class PromptConsumer(PromptResumeMixin, FakeConsumer):
    pass


async def test_the_fetch_loop_resumes_as_soon_as_a_buffer_drains() -> None:
    consumer = PromptConsumer()
    waiting = asyncio.ensure_future(consumer._wait_next_records(1.0))
    await asyncio.sleep(0)
    assert not waiting.done()  # every partition paused: it waits
    consumer.on_buffer_drop("tp0")
    await asyncio.wait_for(waiting, 0.5)  # Faust alone would sleep a full second
    assert consumer.calls == ["drop:tp0", "fetch"]


async def test_active_partitions_are_fetched_without_waiting() -> None:
    consumer = PromptConsumer()
    consumer.active.add("tp0")
    await asyncio.wait_for(consumer._wait_next_records(1.0), 0.05)
    assert consumer.calls == ["fetch"]
