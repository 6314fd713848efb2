"""ChannelBatches: batches straight from an agent's channel, prepared as Faust's stream does."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import faust
from faust.streams import Stream
from faust.types.tuples import ConsumerMessage

from onex_stream.infra.event_bus.channel_batches import ChannelBatches
from onex_stream.infra.event_bus.memory import MemoryBroker

WAIT_TIMEOUT = 5.0


def test_faust_still_prepares_stream_events_the_way_channel_batches_does() -> None:
    """What ChannelBatches replicates of Faust's stream iterator (the Cython one has the
    same steps): skip another generation's records or any while flow is off; track the
    others as unacked."""
    source = inspect.getsource(Stream._py_aiter)
    assert "not self.app.flow_control.is_active()" in source
    assert "message.generation_id != self.app.consumer_generation_id" in source
    assert "topic in acking_topics and not message.tracked" in source
    assert "message.tracked = True" in source


class Batches(list[list[Any]]):
    """The batches an agent took, and a wait for a number of records."""

    def __init__(self) -> None:
        super().__init__()
        self.grew = asyncio.Event()

    async def wait_for(self, records: int) -> None:
        async with asyncio.timeout(WAIT_TIMEOUT):
            while sum(map(len, self)) < records:
                self.grew.clear()
                await self.grew.wait()


def batching_agent(app: faust.App, topic: str, max_size: int) -> Batches:
    batches = Batches()

    @app.agent(app.topic(topic, value_serializer="raw"))
    async def take(stream: Any) -> None:
        async for events in ChannelBatches(stream, max_size):
            batches.append(events)
            batches.grew.set()

    return batches


async def test_a_batch_holds_what_is_queued_up_to_max_size_and_stays_unacked(
    broker: MemoryBroker, make_app: Any, start_app: Any
) -> None:
    broker.create_topic("in", 1)
    for n in range(12):
        broker.append("in", str(n).encode(), partition=0)
    app = make_app(stream_wait_empty=False)
    batches = batching_agent(app, "in", max_size=5)
    await start_app(app)
    await batches.wait_for(12)

    assert max(map(len, batches)) == 5  # queued records come together, never more than 5
    offsets = [event.message.offset for batch in batches for event in batch]
    assert offsets == list(range(12))
    assert len(app.consumer.unacked) == 12  # tracked: stop and rebalance wait for them
    for batch in batches:
        for event in batch:
            event.ack()
    assert not app.consumer.unacked


def queued_event(app: faust.App, queue: Any, offset: int, generation: int | None) -> Any:
    message = ConsumerMessage(
        "in", 0, offset, 0.0, 0, [], None, b"v", None, generation_id=generation
    )
    event = app.create_event(None, b"v", [], message)
    queue.put_nowait(event)
    return event


async def test_another_generations_records_and_records_taken_while_flow_is_off_are_skipped(
    broker: MemoryBroker, make_app: Any, start_app: Any
) -> None:
    """Faust fetches them again after the rebalance that caused either; untracked, they
    hold neither a stop nor a rebalance."""
    broker.create_topic("in", 1)
    app = make_app(stream_wait_empty=False)
    batching_agent(app, "in", max_size=10)  # "in" becomes an acked topic
    await start_app(app)
    stream = app.stream(app.channel())
    batches, queue = ChannelBatches(stream, 10), stream.channel.queue
    current = app.consumer_generation_id

    stale = queued_event(app, queue, 0, current - 1)
    fresh = queued_event(app, queue, 1, current)
    assert await asyncio.wait_for(anext(batches), WAIT_TIMEOUT) == [fresh]
    assert not stale.message.tracked and fresh.message.tracked

    app.flow_control.suspend()
    paused = queued_event(app, queue, 2, current)
    taking = asyncio.ensure_future(anext(batches))
    await asyncio.sleep(0)  # it takes `paused`, skips it and waits for more
    app.flow_control.resume()
    later = queued_event(app, queue, 3, current)
    assert await asyncio.wait_for(taking, WAIT_TIMEOUT) == [later]
    assert not paused.message.tracked
    assert set(app.consumer.unacked) == {fresh.message, later.message}
