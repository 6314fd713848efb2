"""Runs on memory:// shared by the benchmarks: the apps, timed drains and slices, paced loads."""

from __future__ import annotations

import asyncio
import gc
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faust

from onex_stream.bootstrap import build_host, faust_app
from onex_stream.infra.event_bus.memory import MemoryBroker, get_broker, reset_brokers
from tests.benchmarks.common import (
    COMMAND_TOPIC,
    EVENT_TOPIC,
    PARTITIONS,
    REPO,
    Mark,
    Record,
    Run,
    app_options,
    bare_app,
    causation_id,
    commands,
    on_assignment,
)

DEMO = REPO / "contracts" / "runtime" / "dev_demo_host.yaml"


def memory_url(prefix: str) -> str:
    """A fresh in-process broker's URL."""
    return f"memory://{prefix}-{uuid.uuid4().hex}"


def memory_host(url: str, bus: dict[str, Any] | None = None, **build: Any) -> faust.App:
    """The runtime host's app on ``url``: the dev demo contract, local handler, web off
    (``bus``: more bus settings, e.g. ``max_concurrency``)."""
    overrides = {"web_enabled": False, "broker_url": url, **(bus or {})}
    host = build_host(DEMO, env={"ONEX_ENV": "test"}, bus_overrides=overrides, **build)
    return faust_app(host)


def bare_memory_app(url: str, datadir: Path) -> faust.App:
    """The bare Faust agent on ``url`` (command topic to event topic)."""
    options = app_options(url, datadir)
    return bare_app(faust.App, f"bare-{url[-8:]}", COMMAND_TOPIC, EVENT_TOPIC, options)


async def drain_memory(
    app: faust.App, url: str, records: Sequence[Record], out_topic: str = EVENT_TOPIC
) -> Run:
    """Start ``app`` on a backlog of ``records``; time and CPU from assignment to all answered."""
    broker = get_broker(url)
    broker.create_topic(COMMAND_TOPIC, PARTITIONS)
    for key, value in records:
        broker.append(COMMAND_TOPIC, value, key=key)
    marks = on_assignment(app)
    gc.collect()  # the previous runs' garbage is not this run's work
    try:
        await app.start()
        await broker.wait_until(lambda: broker.count(out_topic) >= len(records), 300)
        end = Mark.now()
    finally:
        await app.stop()
        reset_brokers()
    n = len(records)
    return Run(n / (end.at - marks[0].at), (end.cpu - marks[0].cpu) / n * 1e6)


class Resident:
    """An app started once on its own broker, then answering successive slices of commands:
    no start-up inside any measured window, and slices of several apps can alternate."""

    def __init__(self, app: faust.App, url: str) -> None:
        self.app = app
        self.broker = get_broker(url)

    async def start(self) -> Resident:
        self.broker.create_topic(COMMAND_TOPIC, PARTITIONS)
        await self.app.start()
        await self.broker.wait_until(lambda: bool(self.app.consumer.assignment()), 30)
        return self

    async def answer(self, n: int) -> Run:
        """Append ``n`` commands at once; time and CPU until all are answered."""
        records = commands(n)
        target = self.broker.count(EVENT_TOPIC) + n
        gc.collect()
        start = Mark.now()
        for key, value in records:
            self.broker.append(COMMAND_TOPIC, value, key=key)
        await self.broker.wait_until(lambda: self.broker.count(EVENT_TOPIC) >= target, 60)
        end = Mark.now()
        return Run(n / (end.at - start.at), (end.cpu - start.cpu) / n * 1e6)

    async def stop(self) -> None:
        await self.app.stop()


class AnswerClock:
    """Records when each answer reaches ``topic`` (perf_counter), by wrapping the broker's
    ``append`` on this one broker instance; values are parsed only after the run."""

    def __init__(self, broker: MemoryBroker, topic: str) -> None:
        self.answers: list[tuple[float, bytes]] = []
        append = broker.append

        def timed(topic_: str, value: bytes | None, *args: Any, **kwargs: Any) -> Any:
            placed = append(topic_, value, *args, **kwargs)
            if topic_ == topic and value is not None:
                self.answers.append((time.perf_counter(), value))
            return placed

        broker.append = timed  # type: ignore[method-assign,assignment]

    def latencies(self, sent: dict[str, float]) -> Paced:
        """Seconds from each command's append to its answer, by the command's envelope_id."""
        answered = {causation_id(value): at for at, value in self.answers}
        latencies = {eid: answered[eid] - at for eid, at in sent.items() if eid in answered}
        return Paced(latencies, max(answered.values()) - max(sent.values()))


@dataclass(frozen=True)
class Paced:
    """End-to-end seconds per command (by envelope_id), and how long after the last command
    the last answer came (far above the latencies: the load was more than the host keeps up
    with)."""

    latencies: dict[str, float]
    tail: float


async def paced(
    broker: MemoryBroker, records: Sequence[Record], rate: float, tick: float = 0.001
) -> dict[str, float]:
    """Append ``records`` at ``rate``/s (every record due by now, each tick); the
    perf_counter at which each was appended, by envelope_id."""
    ids = [json.loads(value)["envelope_id"] for _, value in records]
    sent: dict[str, float] = {}
    started = time.perf_counter()
    for i, (key, value) in enumerate(records):
        if (wait := started + i / rate - time.perf_counter()) > 0:
            await asyncio.sleep(max(wait, tick))
        broker.append(COMMAND_TOPIC, value, key=key)
        sent[ids[i]] = time.perf_counter()
    return sent


async def paced_latencies(
    app: faust.App, url: str, records: Sequence[Record], rate: float
) -> Paced:
    """End-to-end latencies of ``app`` under a paced load."""
    broker = get_broker(url)
    clock = AnswerClock(broker, EVENT_TOPIC)
    try:
        await app.start()
        await broker.wait_until(lambda: bool(app.consumer.assignment()), 30)
        sent = await paced(broker, records, rate)
        await broker.wait_until(lambda: broker.count(EVENT_TOPIC) >= len(records), 120)
    finally:
        await app.stop()
        reset_brokers()
    return clock.latencies(sent)
