"""BatchPipeline: later batches overtake a slow one, within a bound; a failure stops it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from onex_stream.infra.event_bus.batch_pipeline import BatchPipeline

TIMEOUT = 5.0


class Log(list[str]):
    """What the batches did, with a wait for a condition on it."""

    def __init__(self) -> None:
        super().__init__()
        self.changed = asyncio.Condition()

    async def add(self, entry: str) -> None:
        async with self.changed:
            self.append(entry)
            self.changed.notify_all()

    async def wait_for(self, predicate: Callable[[], bool]) -> None:
        async with asyncio.timeout(TIMEOUT), self.changed:
            await self.changed.wait_for(predicate)


class Failures(Log):
    async def __call__(self, exc: Exception) -> None:
        await self.add(str(exc))


async def waiting(gate: asyncio.Event, log: Log, name: str) -> None:
    await gate.wait()
    await log.add(name)


async def test_a_batch_finishes_while_an_earlier_slow_batch_still_runs() -> None:
    pipeline, slow, done, log = (
        BatchPipeline(4, Failures()),
        asyncio.Event(),
        asyncio.Event(),
        Log(),
    )
    done.set()
    assert await pipeline.put(waiting(slow, log, "slow"))
    assert await pipeline.put(waiting(done, log, "fast"))
    await log.wait_for(lambda: log == ["fast"])
    slow.set()
    await log.wait_for(lambda: log == ["fast", "slow"])


async def test_no_more_than_depth_batches_run_at_once() -> None:
    pipeline, gate, log = BatchPipeline(2, Failures()), asyncio.Event(), Log()
    await pipeline.put(waiting(gate, log, "a"))
    await pipeline.put(waiting(gate, log, "b"))
    third = asyncio.ensure_future(pipeline.put(waiting(gate, log, "c")))
    await asyncio.sleep(0)
    assert not third.done()  # waits for a slot
    gate.set()
    await log.wait_for(lambda: sorted(log) == ["a", "b", "c"])
    assert third.result()


async def test_with_depth_one_each_batch_is_answered_before_the_next_starts() -> None:
    pipeline, log = BatchPipeline(1, Failures()), Log()

    async def batch(name: str) -> None:
        await log.add(f"{name} start")
        await asyncio.sleep(0)
        await log.add(f"{name} end")

    for name in "ab":
        assert await pipeline.put(batch(name))
    await log.wait_for(lambda: len(log) == 4)
    assert log == ["a start", "a end", "b start", "b end"]


async def test_a_failed_batch_stops_the_pipeline_and_reports_once_at_once() -> None:
    failures, gate, log = Failures(), asyncio.Event(), Log()
    pipeline = BatchPipeline(4, failures)

    async def failing() -> None:
        raise RuntimeError("dead letter refused")

    await pipeline.put(waiting(gate, log, "pending"))
    await pipeline.put(failing())
    await failures.wait_for(lambda: bool(failures))  # without waiting for a next batch
    assert not await pipeline.put(waiting(gate, log, "never"))
    pipeline.cancel()
    gate.set()
    await asyncio.sleep(0)
    assert failures == ["dead letter refused"]
    assert log == []


async def test_batches_wait_while_the_running_ones_hold_max_envelopes() -> None:
    pipeline, gate, log = BatchPipeline(16, Failures(), max_envelopes=100), asyncio.Event(), Log()
    await pipeline.put(waiting(gate, log, "a"), 60)
    await pipeline.put(waiting(gate, log, "b"), 40)
    third = asyncio.ensure_future(pipeline.put(waiting(gate, log, "c"), 1))
    await asyncio.sleep(0)
    assert not third.done()  # 100 envelopes run: no room for one more
    gate.set()
    await log.wait_for(lambda: sorted(log) == ["a", "b", "c"])
    assert third.result()


async def test_a_batch_larger_than_max_envelopes_runs_alone() -> None:
    pipeline, gate, log = BatchPipeline(16, Failures(), max_envelopes=100), asyncio.Event(), Log()
    assert await pipeline.put(waiting(gate, log, "huge"), 500)  # nothing else runs: it starts
    second = asyncio.ensure_future(pipeline.put(waiting(gate, log, "next"), 1))
    await asyncio.sleep(0)
    assert not second.done()
    gate.set()
    await log.wait_for(lambda: sorted(log) == ["huge", "next"])
