"""ChannelBatches: an agent's records in batches taken straight from its channel's queue.

Faust's ``stream.noack_take(n, within)`` waits up to ``within`` for every batch to fill
and passes each record through a stream step and a buffering processor. Here a batch is
what the queue holds once its first record arrived, at most ``max_size`` records: no
window to wait out (latency) and no per-record stream step (CPU). Under load the queue
fills while the previous batches are answered, so batches grow by themselves.

Each record is prepared as Faust's stream iterator prepares it
(``faust._cython.streams._CStreamIterator._prepare_event``): a record of an earlier
consumer generation, or taken while flow control is off (a rebalance runs), is skipped
unacked, as Faust skips it (its partition is sought again); the others are tracked as
unacked (``Consumer.track_message``), so the consumer waits for them at stop and at a
rebalance. Acks are the caller's (``event.ack()``): nothing here acks.
"""

from __future__ import annotations

from typing import Any


class ChannelBatches:
    """``async for events in ChannelBatches(stream, max_size)``: lists of Faust events."""

    def __init__(self, stream: Any, max_size: int) -> None:
        app = stream.app
        self._app = app
        self._queue = stream.channel.queue
        self._max_size = max_size
        self._flow_active = app.flow_control.is_active
        self._acking_topics = app.topics.acking_topics
        self._track = app.consumer.track_message

    def __aiter__(self) -> ChannelBatches:
        return self

    async def __anext__(self) -> list[Any]:
        """The next non-empty batch: waits for a first record, then takes what is queued."""
        queue, batch = self._queue, list[Any]()
        while not batch:
            self._take(await queue.get(), batch)
            while len(batch) < self._max_size and not queue.empty():
                self._take(queue.get_nowait(), batch)
        return batch

    def _take(self, event: Any, batch: list[Any]) -> None:
        message = event.message
        if not self._flow_active() or message.generation_id != self._app.consumer_generation_id:
            return  # a rebalance runs or ran since it was fetched: it is fetched again
        if not message.tracked and message.topic in self._acking_topics:
            message.tracked = True
            self._track(message)
        batch.append(event)
