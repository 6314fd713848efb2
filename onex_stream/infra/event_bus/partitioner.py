"""Kafka's default partitioner (murmur2 of the key), in C, for every transport's producer.

aiokafka's ``DefaultPartitioner`` hashes with a pure-Python murmur2 (~10 µs a key, the
top function of a worker's profile); ``murmurhash2`` is the same function in C (Kafka's
seed, the same placement: consumers may rely on key -> partition).
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from faust.types.transports import PartitionerT
from murmurhash2 import murmurhash2

#: The seed of Kafka's murmur2 (``org.apache.kafka.common.utils.Utils.murmur2``).
KAFKA_SEED = 0x9747B28C


def kafka_partition(key: bytes | None, num_partitions: int) -> int:
    """Return the partition Kafka's default partitioner picks for ``key``.

    Same result as aiokafka's ``DefaultPartitioner`` and the Java client:
    ``(murmur2(key) & 0x7fffffff) % num_partitions``; a None key picks a random partition.
    """
    if key is None:
        return random.randrange(num_partitions)
    return (murmurhash2(key, KAFKA_SEED) & 0x7FFFFFFF) % num_partitions


def default_partitioner(
    key: bytes | None, all_partitions: Sequence[int], available: Sequence[int]
) -> int:
    """aiokafka's ``DefaultPartitioner`` contract (Faust's ``producer_partitioner``)."""
    if key is None:
        return random.choice(available or all_partitions)
    return all_partitions[kafka_partition(key, len(all_partitions))]


def choose_partition(
    key: bytes | None, num_partitions: int, partitioner: PartitionerT | None = None
) -> int:
    """Pick a partition with Faust's ``producer_partitioner`` if given, else Kafka's default."""
    if partitioner is None:
        return kafka_partition(key, num_partitions)
    partitions = list(range(num_partitions))
    return partitioner(key, partitions, partitions)
