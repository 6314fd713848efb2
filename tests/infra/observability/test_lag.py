"""The lag gauges: never below zero, and their age says when they are stale."""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka.errors import KafkaConnectionError

from onex_stream.infra.observability.lag import LagMonitor
from onex_stream.infra.observability.metrics import HostMetrics
from onex_stream.spi.event_bus import Partition


class ScriptedOffsets:
    """An offset source answering what the test sets, or failing like a lost broker."""

    def __init__(self) -> None:
        self.answer: dict[Partition, tuple[int, int | None]] = {}
        self.down = False

    async def offsets(
        self, group: str, partitions: Iterable[Partition]
    ) -> dict[Partition, tuple[int, int | None]]:
        if self.down:
            raise KafkaConnectionError("broker unreachable")
        return {p: self.answer[p] for p in partitions}

    async def close(self) -> None:
        pass


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def sample(metrics: HostMetrics, name: str, **labels: str) -> float | None:
    return metrics.registry.get_sample_value(name, labels)


async def test_a_log_end_below_the_committed_offset_is_counted_and_lag_stays_at_zero() -> None:
    source, metrics = ScriptedOffsets(), HostMetrics()
    source.answer = {("t", 0): (5, 9), ("t", 1): (12, 10)}
    monitor = LagMonitor(source, metrics, "g", clock=Clock())

    await monitor.refresh([("t", 0), ("t", 1)])

    labels = {"group": "g", "topic": "t"}
    assert sample(metrics, "onex_consumer_lag", partition="0", **labels) == 0
    assert sample(metrics, "onex_consumer_lag", partition="1", **labels) == 2
    counted = "onex_broker_end_offset_below_committed_total"
    assert sample(metrics, counted, partition="0", **labels) == 1
    assert sample(metrics, counted, partition="1", **labels) is None


async def test_the_age_grows_while_the_broker_cannot_be_asked_and_resets_after() -> None:
    source, metrics, clock = ScriptedOffsets(), HostMetrics(), Clock()
    source.answer = {("t", 0): (3, 1)}
    monitor = LagMonitor(source, metrics, "g", clock=clock)
    await monitor.refresh([("t", 0)])
    assert sample(metrics, "onex_consumer_lag_age_seconds") == 0

    source.down = True
    clock.now += 42
    await monitor.refresh([("t", 0)])
    assert sample(metrics, "onex_consumer_lag_age_seconds") == 42
    assert sample(metrics, "onex_consumer_lag", group="g", topic="t", partition="0") == 2

    source.down = False
    await monitor.refresh([("t", 0)])
    assert sample(metrics, "onex_consumer_lag_age_seconds") == 0


async def test_offsets_unread_for_three_refresh_intervals_are_stale_until_the_next_answer() -> None:
    source, clock = ScriptedOffsets(), Clock()
    source.answer = {("t", 0): (3, 1)}
    monitor = LagMonitor(source, HostMetrics(), "g", refresh_seconds=2, clock=clock)
    source.down = True
    clock.now += 6
    await monitor.refresh([("t", 0)])
    assert monitor.stale() is False  # exactly three intervals: not yet
    clock.now += 0.5
    assert monitor.stale() is True

    source.down = False
    await monitor.refresh([("t", 0)])
    assert monitor.stale() is False
