"""Kafka's default partitioner: murmur2 of the key bytes, random partition for a None key."""

from __future__ import annotations

import random

from aiokafka.partitioner import murmur2
from faust.types.transports import PartitionerT


def kafka_partition(key: bytes | None, num_partitions: int) -> int:
    """Return the partition Kafka's default partitioner picks for ``key``.

    Same result as aiokafka's ``DefaultPartitioner`` and the Java client:
    ``(murmur2(key) & 0x7fffffff) % num_partitions``; a None key picks a random partition.
    """
    if key is None:
        return random.randrange(num_partitions)
    hashed: int = murmur2(key)
    return (hashed & 0x7FFFFFFF) % num_partitions


def choose_partition(
    key: bytes | None, num_partitions: int, partitioner: PartitionerT | None = None
) -> int:
    """Pick a partition with Faust's ``producer_partitioner`` if given, else Kafka's default."""
    if partitioner is None:
        return kafka_partition(key, num_partitions)
    partitions = list(range(num_partitions))
    return partitioner(key, partitions, partitions)
