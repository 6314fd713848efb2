"""Every override of a Faust internal, in one place, each listed in ``OVERRIDDEN``.

- :class:`PromptResumeMixin` (consumer): when every assigned partition is paused
  because the agent's buffer is full (backpressure), Faust's fetch loop sleeps 1 s
  before looking again (``Consumer._wait_next_records``), although the buffer usually
  drains within milliseconds. The wait now ends when a buffer drops below its
  low-water mark (``on_buffer_drop``).
- :class:`DirectDrainMixin` (consumer): Faust's drain loop races every record's
  hand-over to the streams against ``suspend_flow`` (``Service.wait_first``: four
  futures and an ``asyncio.wait`` per record, ~18% of a worker's CPU) so that a
  hand-over blocked on a full buffer stays cancellable at a rebalance. The hand-over
  only blocks when flow control is suspended or a buffer of the record's partition is
  full: it is awaited directly unless one of those holds, and raced as before then.
  Records now reach the buffers faster than before, so partitions get paused for a
  full buffer (``on_buffer_full``) more often; while any is, a fetch waits at most
  5 ms instead of 1 s, so a drained partition is fetched again at once.
- :class:`CommitGuardMixin` (consumer): Faust computes the offset to commit from the
  acked offsets alone (``Consumer._new_offset``), with an off-by-one at the head
  (faust-streaming #606) and gap intervals that include the record just received:
  under concurrency, or after an agent stopped without acking its batch, it commits
  past records that were never answered. The guard remembers every record handed to
  the streams since the last seek; a partition's commit point is its lowest unacked
  delivered offset (or one past the last delivered offset when all are acked).
  Offsets absent from the log (compaction, transaction markers) are never delivered,
  so they never hold the commit back. Faust also drops a revoked partition's acks
  before it commits (``Consumer.on_partitions_revoked``): the guard first lets the
  in-flight envelopes finish and commits what was answered, so the member taking the
  partition over does not answer them again.
- :class:`ProducerEbbMixin` (app): Faust's conductor awaits the producer buffer's
  ``wait_until_ebb`` for every record it hands to the streams, and that reads the
  ``producer_threaded`` setting through the settings registry on every call (~5 µs a
  record). The app's producer buffer now reads its size directly (the setting once)
  and calls Faust's own wait only when the buffer is over its limit.
- :class:`BoundedWaitEmptyMixin` (app): Faust waits for in-flight events on stop and
  on revoke without a limit (``App._consumer_wait_empty``); the host waits at most
  its shutdown grace.
- :class:`HeldStreamsMixin` (app): with tables, the consumer's flow is already active
  (changelog reading) when ``Recovery.on_recovery_completed`` resumes the stream
  partitions, seeks them and only then resumes ``flow_control``, which clears every
  stream queue: records fetched in between were dropped unacked (the commit guard then
  held their partition forever; plain Faust commits past them). The flow now stops
  when that step starts (``on_rebalance_complete``) and resumes with Faust's own
  ``resume_flow`` after the queues were cleared.

``tests/infra/event_bus/test_faust_overrides.py`` fails if a name listed in
``OVERRIDDEN`` disappears from the installed Faust.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from faust.types import TP

logger = logging.getLogger(__name__)

#: Faust names overridden or read here, by the Faust class that defines them.
OVERRIDDEN: dict[str, tuple[str, ...]] = {
    "faust.transport.consumer:Consumer": (
        "_drain_messages",
        "_wait_next_records",
        "on_buffer_drop",
        "_get_active_partitions",
        "_new_offset",
        "_add_gap",
        "perform_seek",
        "on_partitions_revoked",
        "maybe_wait_for_commit_to_finish",
        "force_commit",
    ),
    "faust.app.base:App": ("_consumer_wait_empty", "_new_producer"),
    "faust.transport.producer:ProducerBuffer": ("wait_until_ebb",),
    "faust.tables.recovery:Recovery": ("on_recovery_completed",),
}
#: Faust instance state read here, by the Faust class that annotates it.
READ_STATE: dict[str, tuple[str, ...]] = {
    "faust.transport.consumer:Consumer": (
        "_acked",
        "_acked_index",
        "_committed_offset",
        "_read_offset",
        "_n_acked",
        "_buffered_partitions",
    ),
    "faust.transport.conductor:Conductor": ("_tp_index",),
}

IDLE_WAIT_SECONDS = 1.0  # Faust's own wait, kept as the upper bound
#: A fetch's wait while partitions are paused for a full stream buffer: they are fetched
#: again only once a fetch returns, and the buffer drains within milliseconds.
BUFFERED_WAIT_SECONDS = 0.005


class PromptResumeMixin:
    """Consumer mixin (before the Faust class): resume fetching as soon as a buffer drains."""

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


Callback = Callable[[Any], Awaitable[None]]


class DirectDrainMixin:
    """Consumer mixin (before the Faust class): hand records over without a race per
    record unless the hand-over could block (see above)."""

    async def _drain_messages(self, fetcher: Any) -> None:
        """Faust's loop (``Consumer._drain_messages``) without per-record ``wait_first``.

        Gaps need no call (the commit guard ignores them); ``broker_commit_every`` and
        the yield to the loop every 100 records are kept.
        """
        consumer: Any = self
        callback, getmany, read_offset = consumer.callback, consumer.getmany, consumer._read_offset
        stopped, fetcher_stopped = consumer._stopped.is_set, fetcher._stopped.is_set
        may_block, suspend_flow = _may_block(consumer), consumer.suspend_flow
        commit_every = consumer._commit_every
        since_yield = 0
        try:
            while not (stopped() or fetcher_stopped()):
                # partitions paused for a full buffer resume at the next fetch only
                buffered = consumer._buffered_partitions
                records = getmany(timeout=BUFFERED_WAIT_SECONDS if buffered else IDLE_WAIT_SECONDS)
                await asyncio.sleep(0)
                if consumer.should_stop:
                    continue
                async for tp, message in records:
                    since_yield += 1
                    if since_yield > 100:
                        await asyncio.sleep(0)
                        since_yield = 0
                    offset, last = message.offset, read_offset[tp]
                    if last is not None and offset < last:
                        continue  # Faust drops it too ("DROPPED MESSAGE ROFF")
                    if commit_every is not None and consumer._n_acked >= commit_every:
                        consumer._n_acked = 0
                        await consumer.commit()
                    if may_block(tp):
                        await consumer.wait_first(callback(message), suspend_flow.wait())
                    else:
                        await callback(message)
                    read_offset[tp] = offset
        except consumer.consumer_stopped_errors:
            if not consumer.transport.app.should_stop:
                raise
        except asyncio.CancelledError:
            if not consumer.transport.app.should_stop:
                raise


def _may_block(consumer: Any) -> Callable[[TP], bool]:
    """Whether handing a record of a partition over could wait (``ConductorCompiler``):
    flow suspended, the producer buffer over its limit, or a full stream buffer."""
    app = consumer.app
    suspended, flow_active = consumer.suspend_flow.is_set, app.flow_control.is_active
    tp_index, producer_buffer = app.topics._tp_index, app.producer.buffer
    buffered = _buffer_size(app, producer_buffer)

    def may_block(tp: TP) -> bool:
        if suspended() or not flow_active():
            return True
        if buffered() > producer_buffer.max_messages:
            return True
        return any(channel.queue.full() for channel in tp_index.get(tp, ()))

    return may_block


def _buffer_size(app: Any, producer_buffer: Any) -> Callable[[], int]:
    """``ProducerBuffer.size`` without its setting look-up per call (per record)."""
    if app.conf.producer_threaded:
        return lambda: int(producer_buffer.size)
    qsize: Callable[[], int] = producer_buffer.pending.qsize
    return qsize


class CommitGuardMixin:
    """Consumer mixin (before the Faust class): commit only past answered records."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        consumer: Any = self
        self._delivered: defaultdict[TP, set[int]] = defaultdict(set)
        self._next_offset: dict[TP, int] = {}
        self._first_offset: dict[TP, int] = {}  # first delivered since the last seek
        consumer.callback = self._tracking(consumer.callback)

    def _tracking(self, callback: Callback) -> Callback:
        """Wrap the conductor's callback: a record is pending from its delivery on."""
        delivered, next_offset, first = self._delivered, self._next_offset, self._first_offset
        acks_enabled_for = self._app().topics.acks_enabled_for

        async def deliver(message: Any) -> None:
            if acks_enabled_for(message.topic):
                tp, offset = message.tp, message.offset
                first.setdefault(tp, offset)
                delivered[tp].add(offset)
                if offset >= next_offset.get(tp, 0):
                    next_offset[tp] = offset + 1
            await callback(message)

        return deliver

    def _new_offset(self, tp: TP) -> int | None:
        """The lowest unacked delivered offset, or one past the last delivered; None if
        that is not past the committed offset.

        Acks are read from Faust's own ``_acked`` list (its Cython stream iterator
        records acks there without calling ``Consumer.ack``).
        """
        consumer: Any = self
        acked: list[int] = consumer._acked[tp]
        pending = self._delivered.get(tp)
        if pending:
            pending.difference_update(acked)
        point = min(pending) if pending else self._next_offset.get(tp)
        acked[:] = [offset for offset in acked if point is None or offset >= point]
        consumer._acked_index[tp] = set(acked)
        committed = consumer._committed_offset[tp]
        if point is None or (committed is not None and point <= committed):
            return None
        return point

    def uncommitted(self) -> int:
        """Records delivered since the last seek and not yet committed (answered or not):
        the ones a replacement worker receives again."""
        consumer: Any = self
        total = 0
        for tp, end in list(self._next_offset.items()):
            committed = consumer._committed_offset.get(tp)
            start = max(committed or 0, self._first_offset.get(tp, end))
            total += max(0, end - start)
        return total

    async def _add_gap(self, tp: TP, offset_from: int, offset_to: int) -> None:
        """Gaps need no bookkeeping: offsets never delivered never hold a commit back."""

    async def perform_seek(self) -> None:
        """Commit what was answered, then forget deliveries: after a seek to the committed
        offsets the rest is fetched again (Faust also seeks when a fetch finds the flow
        stopped, e.g. at stop, before its final commit)."""
        await self._commit_answered(set(self._delivered))
        self._forget(list(self._delivered) + list(self._next_offset))
        await super().perform_seek()  # type: ignore[misc]

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        """Finish the in-flight work and commit what was answered, then Faust's revoke
        (which drops the revoked partitions' acks), then forget their deliveries."""
        if revoked and not self._app().should_stop:
            await self._settle(revoked)
        await super().on_partitions_revoked(revoked)  # type: ignore[misc]
        self._forget(revoked)

    async def _settle(self, revoked: set[TP]) -> None:
        """Faust's revoke steps (stop the flow, clear the queues, wait for in-flight
        envelopes within the shutdown grace), then commit past the answered records:
        the member that takes the partitions over starts after them."""
        consumer: Any = self
        app = self._app()
        consumer.stop_flow()
        app.flow_control.suspend()
        consumer.pause_partitions(revoked)
        app.flow_control.clear()  # queued records were never answered: delivered again
        await app._consumer_wait_empty(consumer, logger)
        await self._commit_answered(revoked)

    async def _commit_answered(self, tps: set[TP]) -> None:
        """Commit ``tps`` up to their answered records now (after a running commit)."""
        consumer: Any = self
        if tps:
            await consumer.maybe_wait_for_commit_to_finish()
            await consumer.force_commit(tps)

    def _forget(self, tps: Iterable[TP]) -> None:
        for tp in set(tps):
            self._delivered.pop(tp, None)
            self._next_offset.pop(tp, None)
            self._first_offset.pop(tp, None)

    def _app(self) -> Any:
        consumer: Any = self
        return consumer.app


class ProducerEbbMixin:
    """App mixin: the producer buffer's per-record wait without a settings look-up."""

    def _new_producer(self) -> Any:
        producer = super()._new_producer()  # type: ignore[misc]
        buffer = producer.buffer
        size, wait_until_ebb = _buffer_size(self, buffer), buffer.wait_until_ebb

        async def wait_while_full() -> None:
            if size() > buffer.max_messages:
                await wait_until_ebb()

        buffer.wait_until_ebb = wait_while_full
        return producer


class BoundedWaitEmptyMixin:
    """App mixin: wait for in-flight events (on stop and on revoke) at most
    ``shutdown_grace`` seconds.

    Faust's own wait has no limit (and runs again in ``Consumer.on_stop``), so the
    app is built with ``stream_wait_empty=False`` and waits here instead.
    ``Consumer.wait_empty`` swallows cancellation, so on timeout it is left to end by
    itself once the consumer stops. What is not finished in time is not committed
    and will be delivered again.
    """

    shutdown_grace: float = 30.0

    async def _consumer_wait_empty(self, consumer: Any, logger: Any) -> None:
        logger.info("Wait for in-flight envelopes (at most %.1f s)...", self.shutdown_grace)
        waiting = asyncio.ensure_future(consumer.wait_empty())
        done, _ = await asyncio.wait({waiting}, timeout=self.shutdown_grace)
        if not done:
            logger.warning(
                "in-flight envelopes not finished within %.1f s: not committed, "
                "they will be delivered again",
                self.shutdown_grace,
            )


class HeldStreamsMixin:
    """App mixin: no stream record is fetched while recovery completes (see above)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        app: Any = self
        app.on_rebalance_complete.connect(self._hold_streams)

    async def _hold_streams(self, sender: Any, **_: Any) -> None:
        """Stop the flow; Recovery resumes it once the stream queues are cleared."""
        app: Any = self
        consumer = app._consumer  # None before the consumer exists
        if consumer is not None:
            consumer.stop_flow()
