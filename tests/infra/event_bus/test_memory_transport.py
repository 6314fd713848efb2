"""Tests of the ``memory://`` Faust transport, driven through real Faust apps and agents."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import textwrap
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, cast

import faust
import pytest
from faust.exceptions import ImproperlyConfigured
from faust.types import TP

from onex_stream.infra.event_bus.memory import MemoryBroker, Transport
from onex_stream.infra.event_bus.memory.consumer import MemoryConsumer
from onex_stream.infra.event_bus.partitioner import kafka_partition

MakeApp = Callable[..., faust.App]
StartApp = Callable[[faust.App], Awaitable[None]]

#: Bound on every wait for events to reach an agent.
WAIT_TIMEOUT = 5.0


class Seen(list[tuple[int, int, bytes]]):
    """What an agent received, as (partition, offset, value), with a wait for a condition."""

    def __init__(self) -> None:
        super().__init__()
        self.generations: set[int | None] = set()  # generation ids stamped on the messages
        self._grew = asyncio.Event()

    def add(self, message: Any, value: bytes) -> None:
        self.append((message.partition, message.offset, value))
        self.generations.add(message.generation_id)
        self._grew.set()

    async def wait_until(self, predicate: Callable[[], bool]) -> None:
        """Wait until ``predicate()`` holds, re-checked after every new event."""
        async with asyncio.timeout(WAIT_TIMEOUT):
            while not predicate():
                self._grew.clear()
                await self._grew.wait()


def recording_agent(app: faust.App, source: str, sink: str | None = None) -> Seen:
    """Add an agent recording every event it gets; with ``sink`` it also forwards them."""
    seen = Seen()
    source_topic = app.topic(source, value_serializer="raw")
    sink_topic = None if sink is None else app.topic(sink, value_serializer="raw")

    @app.agent(source_topic)
    async def record(stream: Any) -> None:
        async for event in stream.events():
            seen.add(event.message, event.value)
            if sink_topic is not None:
                await sink_topic.send(key=event.key, value=b"out-" + event.value)

    return seen


def fill(broker: MemoryBroker, topic: str, per_partition: int, partitions: int = 4) -> None:
    """Append ``per_partition`` numbered records to every partition of ``topic``."""
    broker.create_topic(topic, partitions)
    for partition in range(partitions):
        for i in range(per_partition):
            broker.append(topic, f"{partition}-{i}".encode(), partition=partition)


async def test_agent_gets_every_record_once_in_partition_order_and_its_sends_land(
    broker: MemoryBroker, make_app: MakeApp, start_app: StartApp
) -> None:
    fill(broker, "in", per_partition=25)
    app = make_app()
    seen = recording_agent(app, "in", sink="out")

    await start_app(app)
    await broker.wait_for_records("out", 100)

    assert len(seen) == 100
    for partition in range(4):
        offsets = [offset for p, offset, _ in seen if p == partition]
        assert offsets == list(range(25))
    outputs = sorted(r.value or b"" for p in range(8) for r in broker.records("out", p))
    assert outputs == sorted(b"out-" + value for _, _, value in seen)
    assert seen.generations == {app.consumer_generation_id}
    assert app.consumer_generation_id > 0


async def test_committed_offsets_reach_the_log_end_after_processing(
    broker: MemoryBroker, make_app: MakeApp, start_app: StartApp
) -> None:
    fill(broker, "in", per_partition=10)
    app = make_app(broker_commit_interval=0.05)
    recording_agent(app, "in")

    await start_app(app)
    await broker.wait_until(
        lambda: broker.committed(app.conf.id, "in") == {0: 10, 1: 10, 2: 10, 3: 10}, WAIT_TIMEOUT
    )
    assert broker.end_offsets("in") == {0: 10, 1: 10, 2: 10, 3: 10}


async def test_paused_partition_delivers_nothing_until_resumed_then_everything(
    broker: MemoryBroker, make_app: MakeApp, start_app: StartApp
) -> None:
    broker.create_topic("in", 4)
    app = make_app()
    seen = recording_agent(app, "in")
    await start_app(app)

    paused = TP("in", 2)
    app.consumer.pause_partitions([paused])
    fill(broker, "in", per_partition=10)
    await seen.wait_until(lambda: len(seen) == 30)
    broker.append("in", b"sentinel", partition=0)  # by now partition 2 could have been read
    await seen.wait_until(lambda: seen[-1][2] == b"sentinel")
    assert all(partition != 2 for partition, _, _ in seen)
    assert await app.consumer.position(paused) == 0  # nothing of it was handed to Faust

    app.consumer.resume_partitions([paused])
    await seen.wait_until(lambda: len(seen) == 41)
    assert [offset for partition, offset, _ in seen if partition == 2] == list(range(10))


async def test_a_rebalance_commits_the_answered_records_so_none_is_delivered_again(
    broker: MemoryBroker, make_app: MakeApp, start_app: StartApp
) -> None:
    """Faust drops the acks of revoked partitions; the commit guard commits them first."""
    fill(broker, "in", per_partition=5)
    app = make_app(broker_commit_interval=3600)
    seen = recording_agent(app, "in")
    await start_app(app)
    await seen.wait_until(lambda: len(seen) == 20)
    generation = app.consumer_generation_id

    await app.consumer.subscribe({tp.topic for tp in app.consumer.assignment()})
    fill(broker, "in", per_partition=1)
    await seen.wait_until(lambda: len(seen) == 24)

    assert app.consumer_generation_id == generation + 1
    assert sorted((partition, offset) for partition, offset, _ in seen[20:]) == [
        (partition, 5) for partition in range(4)
    ]


async def test_seek_to_committed_repositions_every_partition(
    broker: MemoryBroker, make_app: MakeApp, start_app: StartApp
) -> None:
    fill(broker, "in", per_partition=5)
    app = make_app(broker_commit_interval=0.05)
    seen = recording_agent(app, "in")
    await start_app(app)
    done = {0: 5, 1: 5, 2: 5, 3: 5}
    await broker.wait_until(lambda: broker.committed(app.conf.id, "in") == done, WAIT_TIMEOUT)

    broker.commit(app.conf.id, {("in", 1): 2})  # rewind the group on partition 1
    consumer = cast(MemoryConsumer, app.consumer)
    committed = await consumer.seek_to_committed()

    assert committed[TP("in", 1)] == 2
    assert committed[TP("in", 0)] == 5
    assert await consumer.position(TP("in", 1)) == 2
    await consumer.perform_seek()  # what Faust runs after a rebalance: also resets reads
    await seen.wait_until(lambda: len(seen) == 23)
    assert [(p, offset) for p, offset, _ in seen[20:]] == [(1, 2), (1, 3), (1, 4)]


async def test_latest_offset_reset_skips_records_older_than_the_group(
    broker: MemoryBroker, make_app: MakeApp, start_app: StartApp
) -> None:
    fill(broker, "in", per_partition=3)
    app = make_app(consumer_auto_offset_reset="latest")
    seen = recording_agent(app, "in")
    await start_app(app)

    broker.append("in", b"new", partition=1)
    await seen.wait_until(lambda: len(seen) == 1)
    assert seen == [(1, 3, b"new")]


async def test_fetch_reads_only_active_partitions_caps_the_batch_and_waits_for_appends(
    broker: MemoryBroker, make_app: MakeApp, start_app: StartApp
) -> None:
    """``_getmany`` is the fetch contract every Faust driver implements."""
    broker.create_topic("in", 4)
    app = make_app(broker_max_poll_records=7)
    recording_agent(app, "in")
    await start_app(app)
    consumer = cast(MemoryConsumer, app.consumer)
    consumer.pause_partitions({TP("in", p) for p in range(4)})  # keep Faust's fetcher off "in"
    for partition in (0, 1):
        for i in range(5):
            broker.append("in", f"{partition}-{i}".encode(), partition=partition)

    batch = await consumer._getmany({TP("in", 0), TP("in", 1), TP("in", 2)}, timeout=0)
    assert set(batch) == {TP("in", 0), TP("in", 1)}
    assert sum(len(records) for records in batch.values()) == 7
    for tp, records in batch.items():
        assert [r.offset for r in records] == list(range(len(records)))
        assert {r.partition for r in records} == {tp.partition}
    assert await consumer._getmany({TP("in", 2)}, timeout=0.01) == {}

    consumer.stop_flow()
    assert await consumer._getmany({TP("in", 0)}, timeout=0) == {}
    consumer.resume_flow()

    waiting = asyncio.create_task(consumer._getmany({TP("in", 3)}, timeout=5.0))
    await asyncio.sleep(0)
    broker.append("in", b"late", partition=3)
    batch = await asyncio.wait_for(waiting, 1.0)
    assert [r.value for r in batch[TP("in", 3)]] == [b"late"]


async def test_small_stream_buffer_still_delivers_all_300_records(
    broker: MemoryBroker, make_app: MakeApp, start_app: StartApp
) -> None:
    fill(broker, "in", per_partition=75)
    app = make_app(stream_buffer_maxsize=8)
    seen = recording_agent(app, "in")

    await start_app(app)
    await seen.wait_until(lambda: len(seen) == 300)

    assert len(set(seen)) == 300


async def test_highwater_and_earliest_offsets_follow_the_log(
    broker: MemoryBroker, make_app: MakeApp, start_app: StartApp
) -> None:
    fill(broker, "in", per_partition=3)
    broker.append("in", b"extra", partition=1)
    app = make_app()
    recording_agent(app, "in")
    await start_app(app)
    consumer = app.consumer
    tps = [TP("in", p) for p in range(4)]

    assert [consumer.highwater(tp) for tp in tps] == [3, 4, 3, 3]
    assert await consumer.highwaters(*tps) == dict(zip(tps, [3, 4, 3, 3], strict=True))
    assert await consumer.earliest_offsets(*tps) == dict.fromkeys(tps, 0)
    assert consumer.topic_partitions("in") == 4
    assert consumer.topic_partitions("missing") is None
    assert set(tps) <= consumer.assignment()


async def test_subscribed_and_produced_undeclared_topics_get_topic_partitions(
    broker: MemoryBroker, make_app: MakeApp, start_app: StartApp
) -> None:
    app = make_app(topic_partitions=3)
    recording_agent(app, "undeclared-in")
    await start_app(app)

    await app.producer.send("undeclared-out", None, b"v", None, None, None)

    assert broker.partitions_for("undeclared-in") == 3
    assert broker.partitions_for("undeclared-out") == 3
    assert broker.partitions_for(f"{app.conf.id}-__assignor-__leader") == 1
    assert app.is_leader()


async def test_producer_send_appends_before_its_future_resolves(
    broker: MemoryBroker, make_app: MakeApp
) -> None:
    app = make_app()
    produced: list[dict[str, Any]] = []

    def on_produce_message(sender: Any, /, *args: Any, signal: Any, **kwargs: Any) -> None:
        produced.append(kwargs)

    app.on_produce_message.connect(on_produce_message)
    broker.create_topic("out", 4)

    future = await app.producer.send("out", b"key", b"v", None, 1.5, {"h": b"1"})

    record = broker.records("out", kafka_partition(b"key", 4))[-1]
    assert (record.key, record.value, record.headers, record.timestamp_ms) == (
        b"key",
        b"v",
        [("h", b"1")],
        1500,
    )
    metadata = await future
    assert (metadata.topic, metadata.partition, metadata.offset) == ("out", record.partition, 0)
    assert metadata.topic_partition == TP("out", record.partition)
    assert produced[0]["headers"] == [("h", b"1")]
    sent = await app.producer.send_and_wait("out", None, b"w", 2, None, None)
    assert (sent.partition, sent.offset) == (2, 0)


async def test_key_partition_matches_kafkas_default_partitioner(
    broker: MemoryBroker, make_app: MakeApp
) -> None:
    app = make_app(topic_partitions=6)
    broker.create_topic("t", 12)

    for key in (b"a", b"order-17", b"21"):
        assert app.producer.key_partition("t", key) == TP("t", kafka_partition(key, 12))
        assert app.producer.key_partition("new", key) == TP("new", kafka_partition(key, 6))
        assert app.consumer.key_partition("t", key) == kafka_partition(key, 12)
    assert app.consumer.key_partition("new", b"a") is None


@pytest.mark.parametrize(
    "setting", [{"processing_guarantee": "exactly_once"}, {"producer_threaded": True}]
)
def test_unsupported_settings_are_rejected(make_app: MakeApp, setting: dict[str, Any]) -> None:
    app = make_app(**setting)
    with pytest.raises(ImproperlyConfigured, match="memory:// transport does not support"):
        app.transport  # noqa: B018 -- building the transport is what is tested


async def test_table_is_restored_from_its_changelog_after_a_restart(
    broker: MemoryBroker, make_app: MakeApp, start_app: StartApp
) -> None:
    broker.create_topic("in", 2)
    for i in range(12):
        broker.append("in", b"", key=f"k{i % 3}".encode())

    def counting_app() -> tuple[faust.App, Any]:
        app = make_app("t-table-restore", topic_partitions=2)
        counts = app.Table("counts", default=int, key_type=str)
        source = app.topic("in", key_type=str, value_serializer="raw")

        @app.agent(source)
        async def count(stream: Any) -> None:
            async for key, _ in stream.items():
                counts[key] += 1

        return app, counts

    first, _ = counting_app()
    await start_app(first)
    await broker.wait_for_records("t-table-restore-counts-changelog", 12)
    await first.stop()

    second, counts = counting_app()
    await start_app(second)
    assert dict(counts.items()) == {"k0": 4, "k1": 4, "k2": 4}


def test_memory_url_selects_this_transport_through_the_entry_point(make_app: MakeApp) -> None:
    app = make_app()
    assert isinstance(app.transport, Transport)
    assert app.transport.driver_version.startswith("memory=onex_stream-")


async def test_faust_worker_cli_reaches_ready_and_exits_zero_on_sigterm(tmp_path: Path) -> None:
    (tmp_path / "memapp.py").write_text(
        textwrap.dedent(
            """
            import faust

            app = faust.App("t-cli-worker", broker="memory://", store="memory://")
            greetings = app.topic("greetings", value_serializer="raw")

            @app.agent(greetings)
            async def greet(stream):
                async for value in stream:
                    print(value)
            """
        )
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    worker = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "faust",
        "-A",
        "memapp",
        "worker",
        "--without-web",
        "-l",
        "info",
        cwd=tmp_path,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    assert worker.stdout is not None
    output: list[str] = []
    try:
        async with asyncio.timeout(30):
            while not output or "ready" not in output[-1].lower():
                line = await worker.stdout.readline()
                assert line, "worker exited before it was ready:\n" + "".join(output)
                output.append(line.decode())
        worker.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            rest = await worker.stdout.read()
            returncode = await worker.wait()
    finally:
        if worker.returncode is None:
            worker.kill()
            await worker.wait()

    log = "".join(output) + rest.decode()
    assert returncode == 0, log
    assert "memory=onex_stream" in log
