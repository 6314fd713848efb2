"""Consumer lag from the broker's own offsets: log end minus committed, per partition."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable

from aiokafka.errors import KafkaError

from onex_stream.infra.observability.metrics import HostMetrics
from onex_stream.spi.event_bus import OffsetSource, Partition

logger = logging.getLogger(__name__)

STALE_AFTER_REFRESHES = 3
STALE_AFTER_AT_LEAST_SECONDS = 2.0  # a busy event loop delaying a refresh is not an outage


class LagMonitor:
    """Refreshes the lag, committed and log-end gauges for the partitions it is given.

    Lag is never exported below 0: a broker that reports a log end below the
    committed offset (tansu under-reports after batched produces) is counted in
    ``onex_broker_end_offset_below_committed`` instead. ``onex_consumer_lag_age_seconds``
    says how old the figures are, so a dashboard can tell stale from steady; figures not
    refreshed for ``STALE_AFTER_REFRESHES`` refresh intervals (and at least
    ``STALE_AFTER_AT_LEAST_SECONDS``) mean the broker cannot be reached (readiness
    reports it).
    """

    def __init__(
        self,
        source: OffsetSource,
        metrics: HostMetrics,
        group: str,
        refresh_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.source = source
        self.metrics = metrics
        self.group = group
        self.lag: dict[Partition, int] = {}
        self.stale_after = max(
            STALE_AFTER_REFRESHES * refresh_seconds, STALE_AFTER_AT_LEAST_SECONDS
        )
        self._clock = clock
        self._refreshed_at = clock()
        metrics.lag_age.set_function(self.age)

    def age(self) -> float:
        """Seconds since the offsets were last read from the broker."""
        return self._clock() - self._refreshed_at

    def stale(self) -> bool:
        """Whether the broker has not answered for ``stale_after`` seconds."""
        return self.age() > self.stale_after

    async def refresh(self, partitions: Iterable[Partition]) -> None:
        """Query the offsets once; a broker error is logged and the gauges kept (and age)."""
        partitions = sorted(partitions)
        try:
            offsets = await self.source.offsets(self.group, partitions)
        except KafkaError as exc:
            logger.warning("consumer lag not refreshed: %s", type(exc).__name__)
            return
        for topic, partition in set(self.lag) - set(offsets):  # revoked: drop the series
            labels = (self.group, topic, str(partition))
            for gauge in (
                self.metrics.log_end_offset,
                self.metrics.committed_offset,
                self.metrics.consumer_lag,
            ):
                gauge.remove(*labels)
        self.lag = {}
        for (topic, partition), (end, committed) in offsets.items():
            labels = (self.group, topic, str(partition))
            lag = end - (committed or 0)
            if lag < 0:
                self.metrics.end_below_committed.labels(*labels).inc()
                lag = 0
            self.lag[(topic, partition)] = lag
            self.metrics.log_end_offset.labels(*labels).set(end)
            self.metrics.committed_offset.labels(*labels).set(committed or 0)
            self.metrics.consumer_lag.labels(*labels).set(lag)
        self._refreshed_at = self._clock()
