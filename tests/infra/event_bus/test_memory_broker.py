"""Tests of the in-process memory broker: logs, partitioning, offsets and wake-ups."""

from __future__ import annotations

import asyncio
import gc

import pytest
from aiokafka.partitioner import DefaultPartitioner

from onex_stream.infra.event_bus.memory import MemoryBroker, get_broker, reset_brokers
from onex_stream.infra.event_bus.partitioner import kafka_partition

# murmur2 values from Kafka's own test suite (org.apache.kafka.common.utils.UtilsTest).
JAVA_MURMUR2 = {
    b"21": -973932308,
    b"foobar": -790332482,
    b"a-little-bit-long-string": -985981536,
    b"a-little-bit-longer-string": -1486304829,
    b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
    b"abc": 479470107,
}


def test_offsets_are_dense_from_zero_and_each_partition_is_fifo(broker: MemoryBroker) -> None:
    broker.create_topic("t", 3)
    for i in range(9):
        assert broker.append("t", f"v{i}".encode(), partition=i % 3) == (i % 3, i // 3)

    for partition in range(3):
        records = broker.records("t", partition)
        assert [r.offset for r in records] == [0, 1, 2]
        assert [r.value for r in records] == [f"v{i}".encode() for i in range(partition, 9, 3)]
        assert {(r.topic, r.partition) for r in records} == {("t", partition)}
    assert [r.offset for r in broker.records("t", 1, start=1)] == [1, 2]


def test_record_keeps_key_headers_and_timestamp(broker: MemoryBroker) -> None:
    broker.append("t", b"v", key=b"k", partition=0, headers=[("h", b"1")], timestamp_ms=1234)
    broker.append("t", None, partition=0)

    first, second = broker.records("t", 0)
    assert (first.key, first.value, first.headers, first.timestamp_ms) == (
        b"k",
        b"v",
        [("h", b"1")],
        1234,
    )
    assert (second.key, second.value, second.headers) == (None, None, [])
    assert second.timestamp_ms > 0


@pytest.mark.parametrize("partitions", [1, 3, 4, 8, 12, 100])
def test_key_picks_the_same_partition_as_kafkas_default_partitioner(
    broker: MemoryBroker, partitions: int
) -> None:
    broker.create_topic("t", partitions)
    aiokafka_partitioner = DefaultPartitioner()
    all_partitions = list(range(partitions))
    keys = [*JAVA_MURMUR2, *(f"key-{i}".encode() for i in range(50))]

    for key in keys:
        expected = aiokafka_partitioner(key, all_partitions, all_partitions)
        assert kafka_partition(key, partitions) == expected
        assert broker.append("t", b"v", key=key)[0] == expected


@pytest.mark.parametrize(("key", "java_hash"), JAVA_MURMUR2.items())
def test_key_partition_matches_the_java_clients_murmur2(key: bytes, java_hash: int) -> None:
    for partitions in (1, 2, 5, 16):
        assert kafka_partition(key, partitions) == (java_hash & 0x7FFFFFFF) % partitions


def test_none_key_spreads_over_existing_partitions(broker: MemoryBroker) -> None:
    broker.create_topic("t", 4)
    used = {broker.append("t", b"v")[0] for _ in range(200)}
    assert used == {0, 1, 2, 3}


@pytest.mark.parametrize("partition", [-1, 4, 99])
def test_explicit_partition_out_of_range_is_rejected(broker: MemoryBroker, partition: int) -> None:
    broker.create_topic("t", 4)
    with pytest.raises(ValueError, match="no partition"):
        broker.append("t", b"v", partition=partition)
    assert broker.end_offsets("t") == {0: 0, 1: 0, 2: 0, 3: 0}


def test_create_topic_is_idempotent_and_keeps_the_first_partition_count(
    broker: MemoryBroker,
) -> None:
    assert broker.create_topic("t", 4) == 4
    broker.append("t", b"v", partition=3)
    assert broker.create_topic("t", 8) == 4
    assert broker.topics() == {"t": 4}
    assert broker.partitions_for("t") == 4
    assert broker.partitions_for("missing") is None
    assert broker.highwater("t", 3) == 1
    with pytest.raises(ValueError, match="at least one partition"):
        broker.create_topic("empty", 0)


def test_append_to_an_unknown_topic_creates_it_with_the_default_partitions(
    broker: MemoryBroker,
) -> None:
    broker.append("new", b"v")
    assert broker.partitions_for("new") == broker.default_partitions == 8
    assert broker.count("new") == 1
    assert broker.count("missing") == 0


def test_end_offsets_and_committed_offsets_per_group(broker: MemoryBroker) -> None:
    broker.create_topic("t", 2)
    for _ in range(3):
        broker.append("t", b"v", partition=0)
    broker.append("t", b"v", partition=1)

    assert broker.end_offsets("t") == {0: 3, 1: 1}
    assert broker.committed("g1", "t") == {0: None, 1: None}
    broker.commit("g1", {("t", 0): 2})
    broker.commit("g1", {("t", 0): 3, ("t", 1): 1})
    broker.commit("g2", {("t", 1): 0})
    assert broker.committed("g1", "t") == {0: 3, 1: 1}
    assert broker.committed("g2", "t") == {0: None, 1: 0}
    assert broker.committed_offset("g2", "t", 1) == 0


async def test_wait_for_records_wakes_on_append_and_times_out(broker: MemoryBroker) -> None:
    broker.create_topic("t", 2)

    async def produce() -> None:
        for i in range(3):
            await asyncio.sleep(0)
            broker.append("t", b"v", partition=i % 2)

    producer = asyncio.create_task(produce())
    await broker.wait_for_records("t", 3, timeout=2.0)
    await producer
    assert broker.count("t") == 3
    with pytest.raises(TimeoutError):
        await broker.wait_for_records("t", 4, timeout=0.02)


async def test_wait_until_rechecks_after_commits(broker: MemoryBroker) -> None:
    broker.create_topic("t", 1)
    waiter = asyncio.create_task(
        broker.wait_until(lambda: broker.committed("g", "t") == {0: 5}, timeout=2.0)
    )
    await asyncio.sleep(0)
    broker.commit("g", {("t", 0): 5})
    await waiter


def test_broker_survives_a_waiter_left_on_a_closed_event_loop(broker: MemoryBroker) -> None:
    # A consumer still waiting when its test's loop closed leaves a wake-up future, with a
    # callback registered, on that closed loop: resolving it would raise "loop is closed".
    old_loop = asyncio.new_event_loop()
    stranded = old_loop.create_task(broker.wait_for_change())
    old_loop.run_until_complete(asyncio.sleep(0))
    old_loop.close()
    assert not stranded.done()

    broker.append("t", b"v")

    async def on_a_new_loop() -> None:
        waiting = asyncio.create_task(broker.wait_for_records("t", 2, timeout=2.0))
        await asyncio.sleep(0)
        broker.append("t", b"v")
        await waiting

    asyncio.run(on_a_new_loop())


def test_get_broker_returns_one_broker_per_url_host() -> None:
    reset_brokers()
    try:
        default = get_broker()
        assert get_broker("memory://") is default
        assert get_broker("memory:") is default
        assert get_broker("memory://other") is not default
        default.create_topic("t", 1)
        reset_brokers()
        assert get_broker().topics() == {}
    finally:
        reset_brokers()


def test_stored_records_leave_the_garbage_collectors_passes(broker: MemoryBroker) -> None:
    """A broker holding many records adds nothing to a full collection: each record is kept
    as a plain tuple of atomic values, which the collector stops tracking."""
    broker.create_topic("t", 1)
    broker.append("t", b"v", key=b"k", partition=0, headers=[("h", b"1")])
    broker.append("t", None, partition=0)
    gc.collect()  # untracks the header tuples,
    gc.collect()  # then the records holding them
    assert not any(gc.is_tracked(stored) for stored in broker._logs["t"][0])
    first, second = broker.records("t", 0)
    assert (first.headers, second.headers) == ([("h", b"1")], [])
