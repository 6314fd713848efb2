"""Per-envelope counters and histograms kept as plain numbers, exported at scrape time.

prometheus_client's ``Counter.inc`` and ``Histogram.observe`` take a lock per value and
walk the buckets in Python: 5-9 µs of the ~30 µs the host spends routing an envelope.
Every update and every scrape of the host's metrics runs on its event loop (the
metrics page is served by the worker's own web server), so the counts need no lock:
here an update is a dict look-up and an addition (a histogram finds its bucket with
``bisect``), and the Prometheus families are built when a scrape collects them, with
the same names, labels, help and samples a ``Counter`` or ``Histogram`` exports.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.metrics_core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

Labels = tuple[str, ...]


class _LoopFamily(Collector):
    """A metric family of the hot path: its series are filled in by ``_fill`` at scrape time."""

    _kind: type[CounterMetricFamily] | type[HistogramMetricFamily]

    def __init__(
        self, name: str, documentation: str, labels: Sequence[str], registry: CollectorRegistry
    ) -> None:
        self._family = (name, documentation, tuple(labels))
        registry.register(self)

    def describe(self) -> Iterable[Metric]:
        """The family without samples (what the registry checks names against)."""
        yield self._empty()

    def collect(self) -> Iterable[Metric]:
        """The family with its series."""
        family = self._empty()
        self._fill(family)
        yield family

    def _empty(self) -> Any:
        name, documentation, labels = self._family
        return self._kind(name, documentation, labels=labels)

    @abstractmethod
    def _fill(self, family: Any) -> None:
        """Add the series to ``family``."""


class LoopCounter(_LoopFamily):
    """A labelled counter (``<name>_total``) updated on the event loop only."""

    _kind = CounterMetricFamily

    def __init__(
        self, name: str, documentation: str, labels: Sequence[str], registry: CollectorRegistry
    ) -> None:
        self.values: dict[Labels, float] = {}
        super().__init__(name, documentation, labels, registry)

    def inc(self, labels: Labels, amount: float = 1.0) -> None:
        """Add ``amount`` to the series of ``labels`` (label values, in declaration order)."""
        values = self.values
        values[labels] = values.get(labels, 0.0) + amount

    def _fill(self, family: CounterMetricFamily) -> None:
        for series, value in self.values.items():
            family.add_metric(series, value)


class LoopHistogram(_LoopFamily):
    """A labelled histogram (cumulative ``_bucket``, ``_count``, ``_sum``) updated on the
    event loop only; ``buckets`` are the finite upper bounds, ``+Inf`` is added."""

    _kind = HistogramMetricFamily

    def __init__(
        self,
        name: str,
        documentation: str,
        labels: Sequence[str],
        buckets: Sequence[float],
        registry: CollectorRegistry,
    ) -> None:
        self._bounds = tuple(buckets)
        bounds = (*self._bounds, math.inf)  # `le` as prometheus_client writes it (untyped)
        self._les: list[str] = [floatToGoString(b) for b in bounds]  # type: ignore[no-untyped-call]
        # per series: the count of each bucket (not cumulative), then the sum
        self.series: dict[Labels, list[float]] = {}
        super().__init__(name, documentation, labels, registry)

    def observe(self, labels: Labels, value: float) -> None:
        """Count ``value`` in the series of ``labels``: bucket ``le`` holds values <= le."""
        counts = self.series.get(labels)
        if counts is None:
            counts = self.series[labels] = [0.0] * (len(self._bounds) + 2)
        counts[bisect_left(self._bounds, value)] += 1
        counts[-1] += value

    def _fill(self, family: HistogramMetricFamily) -> None:
        for series, counts in self.series.items():
            cumulative, buckets = 0.0, []
            for le, count in zip(self._les, counts[:-1], strict=True):
                cumulative += count
                buckets.append((le, cumulative))
            family.add_metric(series, buckets, sum_value=counts[-1])
