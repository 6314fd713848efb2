"""Commit only offsets below which every delivered record was acked.

Faust computes the offset to commit from the acked offsets alone
(``Consumer._new_offset``), with an off-by-one at the head (faust-streaming #606)
and gap intervals that include the record just received: under concurrency, or
after an agent stopped without acking its batch, it commits past records that
were never answered. This mixin replaces that computation: it remembers every
record handed to the streams since the last seek, and the commit point of a
partition is its lowest unacked delivered offset (or one past the last delivered
offset when all are acked). Offsets that do not exist in the log (compaction,
transaction markers) are never delivered, so they never hold the commit back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from faust.types import TP

Callback = Callable[[Any], Awaitable[None]]


class CommitGuardMixin:
    """Mix into a Faust ``Consumer`` subclass (before the Faust class)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        consumer: Any = self
        self._delivered: defaultdict[TP, set[int]] = defaultdict(set)
        self._next_offset: dict[TP, int] = {}
        consumer.callback = self._tracking(consumer.callback)

    def _tracking(self, callback: Callback) -> Callback:
        """Wrap the conductor's callback: a record is pending from its delivery on."""
        delivered, next_offset = self._delivered, self._next_offset
        acks_enabled_for = self._app().topics.acks_enabled_for

        async def deliver(message: Any) -> None:
            if acks_enabled_for(message.topic):
                tp, offset = message.tp, message.offset
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

    async def _add_gap(self, tp: TP, offset_from: int, offset_to: int) -> None:
        """Gaps need no bookkeeping: offsets never delivered never hold a commit back."""

    async def perform_seek(self) -> None:
        """Forget deliveries: after a seek to the committed offsets all are fetched again."""
        self._forget(list(self._delivered) + list(self._next_offset))
        await super().perform_seek()  # type: ignore[misc]

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        """Faust's revoke (which waits for and commits in-flight work), then forget."""
        await super().on_partitions_revoked(revoked)  # type: ignore[misc]
        self._forget(revoked)

    def _forget(self, tps: Iterable[TP]) -> None:
        for tp in set(tps):
            self._delivered.pop(tp, None)
            self._next_offset.pop(tp, None)

    def _app(self) -> Any:
        consumer: Any = self
        return consumer.app
