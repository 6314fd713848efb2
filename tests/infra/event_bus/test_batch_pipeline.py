"""BatchPipeline: later batches overtake a slow one, within a bound; a failure stops it."""

from __future__ import annotations

import asyncio

from onex_stream.infra.event_bus.batch_pipeline import BatchPipeline

TIMEOUT = 5.0


class Failures(list[Exception]):
    async def __call__(self, exc: Exception) -> None:
        self.append(exc)


async def waiting(gate: asyncio.Event, log: list[str], name: str) -> None:
    await gate.wait()
    log.append(name)


async def test_a_batch_finishes_while_an_earlier_slow_batch_still_runs() -> None:
    pipeline, slow, log = BatchPipeline(4, Failures()), asyncio.Event(), []
    assert await pipeline.put(waiting(slow, log, "slow"))
    done = asyncio.Event()
    done.set()
    assert await pipeline.put(waiting(done, log, "fast"))
    async with asyncio.timeout(TIMEOUT):
        while log != ["fast"]:
            await asyncio.sleep(0)
    slow.set()
    async with asyncio.timeout(TIMEOUT):
        while log != ["fast", "slow"]:
            await asyncio.sleep(0)


async def test_no_more_than_depth_batches_run_at_once() -> None:
    pipeline, gate, log = BatchPipeline(2, Failures()), asyncio.Event(), []
    await pipeline.put(waiting(gate, log, "a"))
    await pipeline.put(waiting(gate, log, "b"))
    third = asyncio.ensure_future(pipeline.put(waiting(gate, log, "c")))
    await asyncio.sleep(0)
    assert not third.done()  # waits for a slot
    gate.set()
    async with asyncio.timeout(TIMEOUT):
        assert await third
        while len(log) < 3:
            await asyncio.sleep(0)


async def test_with_depth_one_each_batch_is_answered_before_the_next_starts() -> None:
    pipeline, log = BatchPipeline(1, Failures()), []

    async def batch(name: str) -> None:
        log.append(f"{name} start")
        await asyncio.sleep(0)
        log.append(f"{name} end")

    for name in "ab":
        assert await pipeline.put(batch(name))
    assert log == ["a start", "a end", "b start", "b end"]


async def test_a_failed_batch_stops_the_pipeline_and_reports_once_at_once() -> None:
    failures, gate, log = Failures(), asyncio.Event(), []
    pipeline = BatchPipeline(4, failures)

    async def failing() -> None:
        raise RuntimeError("dead letter refused")

    await pipeline.put(waiting(gate, log, "pending"))
    await pipeline.put(failing())
    async with asyncio.timeout(TIMEOUT):
        while not failures:  # reported without waiting for the next batch
            await asyncio.sleep(0)
    assert not await pipeline.put(waiting(gate, log, "never"))
    pipeline.cancel()
    gate.set()
    await asyncio.sleep(0)
    assert [str(f) for f in failures] == ["dead letter refused"]
    assert log == []
