"""Scale-out runs on a real broker: rebalance steps, CPU samples, steady streams, answers.

Shared by ``tests/integration/kafka/test_kafka_rebalance_graceful.py`` and
``tests/benchmarks/bench_scale_out.py``. A worker's rebalance steps are read from its log.
Every time here is wall-clock seconds since the epoch: worker log lines carry the worker's
wall clock (millisecond resolution) and answer records their producer's CreateTime
(milliseconds), both read from this machine's clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

import psutil
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from tests.support.kafka_clients import AnswerReader
from tests.support.workers import WorkerProcess

#: Log lines (aiokafka's and Faust's) that mark a member's steps through a rebalance.
STEPS = {
    "notified": "because it is rebalancing",  # a heartbeat answered REBALANCE_IN_PROGRESS
    "revoke": "Revoking previously assigned partitions",  # the revoke callback starts
    "rejoin": "(Re-)joining group",  # revoke done: JoinGroup sent
    "joined": "Joined group",  # the broker answered JoinGroup
    "synced": "Successfully synced group",  # the broker answered SyncGroup
    "assigned": "Setting newly assigned partitions",  # the assign callback starts
    "ready": "Recovery]: Worker ready",  # streams resumed: fetching again
}
LOG_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}")

Command = tuple[str, bytes, bytes]  # (envelope_id, key, value)


# -- worker logs ----------------------------------------------------------------------------


def line_time(line: str) -> float | None:
    """The wall-clock time a worker log line was written (None without a timestamp)."""
    found = LOG_TIME.search(line)
    return datetime.strptime(found.group(), "%Y-%m-%d %H:%M:%S,%f").timestamp() if found else None


def step_times(worker: WorkerProcess, step: str, since: float = 0.0) -> list[float]:
    """Times of the worker's ``step`` lines (see ``STEPS``) at or after ``since``."""
    times = (line_time(line) for line in list(worker.lines) if STEPS[step] in line)
    return [t for t in times if t is not None and t >= since]


def first_step(worker: WorkerProcess, step: str, since: float = 0.0) -> float | None:
    """Time of the worker's first ``step`` line at or after ``since``."""
    return next(iter(step_times(worker, step, since)), None)


def assignments(worker: WorkerProcess, topic: str) -> list[tuple[float, set[int]]]:
    """The worker's assignments of ``topic``, in order: (time, partitions)."""
    pattern = re.compile(rf"topic='{re.escape(topic)}', partition=(\d+)")
    found = []
    for line in list(worker.lines):
        when = line_time(line)
        if STEPS["assigned"] in line and when is not None:
            found.append((when, {int(p) for p in pattern.findall(line)}))
    return found


def latest_assignment(worker: WorkerProcess, topic: str) -> set[int]:
    """The worker's most recent assignment of ``topic`` (empty before the first)."""
    found = assignments(worker, topic)
    return found[-1][1] if found else set()


def split_evenly(workers: Sequence[WorkerProcess], topic: str, partitions: int) -> bool:
    """True when the workers' latest assignments are non-empty, disjoint and cover every
    partition, and each worker resumed its streams after its latest assignment."""
    held = [latest_assignment(worker, topic) for worker in workers]
    if not all(held) or sum(map(len, held)) != partitions:
        return False
    if set().union(*held) != set(range(partitions)):
        return False
    return all(step_times(worker, "ready", assignments(worker, topic)[-1][0]) for worker in workers)


async def wait_split(
    workers: Sequence[WorkerProcess], topic: str, partitions: int, seconds: float
) -> None:
    """Wait until ``split_evenly`` holds (TimeoutError after ``seconds``)."""
    deadline = time.monotonic() + seconds
    while not split_evenly(workers, topic, partitions):
        if time.monotonic() > deadline:
            held = [sorted(latest_assignment(w, topic)) for w in workers]
            raise TimeoutError(f"partitions not split between the workers: {held}")
        await asyncio.sleep(0.05)


# -- CPU ------------------------------------------------------------------------------------


class CpuSampler:
    """Samples the CPU seconds of named processes, and the machine's busy seconds
    (``"machine"``), every ``interval`` seconds in a thread."""

    def __init__(self, pids: dict[str, int], interval: float = 0.05) -> None:
        self.processes = {name: psutil.Process(pid) for name, pid in pids.items()}
        self.interval = interval
        self.samples: list[tuple[float, dict[str, float]]] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> CpuSampler:
        """Take samples until ``stop``."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop sampling (after one last sample)."""
        self._stopping.set()
        self._thread.join()

    def between(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds each process (and the machine) used from ``start`` to ``end``,
        interpolated between the nearest samples."""
        return {
            name: self._at(name, end) - self._at(name, start)
            for name in [*self.processes, "machine"]
        }

    def _at(self, name: str, when: float) -> float:
        samples = self.samples
        if not samples:
            return 0.0
        if when <= samples[0][0]:
            return samples[0][1][name]
        for (t0, v0), (t1, v1) in itertools.pairwise(samples):
            if t0 <= when <= t1:
                share = (when - t0) / (t1 - t0) if t1 > t0 else 1.0
                return v0[name] + share * (v1[name] - v0[name])
        return samples[-1][1][name]

    def _run(self) -> None:
        last: dict[str, float] = {}
        while True:
            values: dict[str, float] = {}
            for name, process in self.processes.items():
                try:
                    times = process.cpu_times()
                    values[name] = times.user + times.system
                except psutil.Error:  # exited (killed): keep what it had used
                    values[name] = last.get(name, 0.0)
            machine = psutil.cpu_times()
            values["machine"] = (
                machine.user + machine.nice + machine.system + machine.irq + machine.softirq
            )
            self.samples.append((time.time(), values))
            last = values
            if self._stopping.wait(self.interval):
                break
        values = dict(last)
        self.samples.append((time.time(), values))


# -- commands and answers -------------------------------------------------------------------


class SteadyStream:
    """Produces commands at ``rate`` per second, in a task, until stopped; remembers the
    partition of every envelope (by envelope_id) once the broker stored it."""

    TICK = 0.01  # seconds between sends

    def __init__(
        self, bootstrap: str, topic: str, rate: float, make: Callable[[int], Command]
    ) -> None:
        self.bootstrap, self.topic, self.rate, self.make = bootstrap, topic, rate, make
        self.ids: list[str] = []
        self.partitions: dict[str, int] = {}
        self.started = self.stopped = 0.0
        self._pending: list[asyncio.Future[Any]] = []
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)

    @property
    def expected(self) -> set[str]:
        """Every envelope_id produced so far."""
        return set(self.ids)

    async def start(self) -> SteadyStream:
        """Start producing."""
        await self._producer.start()
        self.started = time.time()
        self._task = asyncio.create_task(self._run())
        return self

    async def stop(self) -> None:
        """Stop producing and wait until the broker stored every command."""
        self._stopping.set()
        try:
            if self._task is not None:
                await self._task
            await asyncio.gather(*self._pending)
        finally:
            self.stopped = time.time()
            await self._producer.stop()

    async def _run(self) -> None:
        begin = time.monotonic()
        while not self._stopping.is_set():
            due = int((time.monotonic() - begin) * self.rate) - len(self.ids)
            for _ in range(max(0, due)):
                envelope_id, key, value = self.make(len(self.ids))
                self.ids.append(envelope_id)
                sent = await self._producer.send(self.topic, value, key=key)
                sent.add_done_callback(self._stored(envelope_id))
                self._pending.append(sent)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.TICK)

    def _stored(self, envelope_id: str) -> Callable[[asyncio.Future[Any]], None]:
        def done(sent: asyncio.Future[Any]) -> None:
            if not sent.cancelled() and sent.exception() is None:
                self.partitions[envelope_id] = sent.result().partition

        return done


async def read_settled(
    reader: AnswerReader, expected: set[str], seconds: float, quiet: float = 1.0
) -> None:
    """Read until every envelope in ``expected`` was answered, then on until no answer
    arrived for ``quiet`` seconds (late duplicates included)."""
    await reader.read_until(expected, seconds)
    seen, last = len(reader.records), time.monotonic()

    def arriving() -> bool:
        nonlocal seen, last
        if len(reader.records) > seen:
            seen, last = len(reader.records), time.monotonic()
        return time.monotonic() - last < quiet

    await reader.read_while(arriving, seconds)


async def wait_committed(
    bootstrap: str, group: str, topic: str, partitions: int, total: int, seconds: float
) -> None:
    """Wait until ``group`` committed ``total`` records of ``topic`` over its partitions
    (one OffsetFetch per partition every 0.25 s: cheap for the measured processes)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        deadline = time.monotonic() + seconds
        while True:
            committed = [await consumer.committed(tp) for tp in tps]
            if sum(offset or 0 for offset in committed) >= total:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{group} committed {committed} of {total} records")
            await asyncio.sleep(0.25)
    finally:
        await consumer.stop()


class AnswerTimeline:
    """Answers read from an event topic, in CreateTime order: who was answered when, and
    how often."""

    def __init__(self, records: Iterable[Any]) -> None:
        entries = sorted(
            (record.timestamp / 1000, json.loads(record.value)["causation_id"])
            for record in records
        )
        self.times = [when for when, _ in entries]
        self.entries = entries
        self.first: dict[str, float] = {}
        self.count: Counter[str] = Counter()
        for when, envelope_id in entries:
            self.first.setdefault(envelope_id, when)
            self.count[envelope_id] += 1

    def duplicates(self, answered_before: float = math.inf) -> int:
        """Answers beyond the first, of envelopes first answered before ``answered_before``."""
        return sum(
            count - 1 for eid, count in self.count.items() if self.first[eid] < answered_before
        )

    def longest_gap(
        self, start: float, end: float, ids: set[str] | None = None
    ) -> tuple[float, float]:
        """The longest time without any answer (to one of ``ids``, if given) between
        ``start`` and ``end``, and when it began."""
        answered = self.times if ids is None else [t for t, eid in self.entries if eid in ids]
        times = [start, *(t for t in answered if start < t < end), end]
        return max(((b - a, a) for a, b in itertools.pairwise(times)), default=(0, 0))

    def first_after(self, when: float, ids: set[str]) -> float | None:
        """The first answer after ``when`` to one of ``ids``."""
        return next((t for t, eid in self.entries if t > when and eid in ids), None)

    def last(self) -> float:
        """The time of the last answer."""
        return self.times[-1]
