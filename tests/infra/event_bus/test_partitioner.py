"""The C murmur2 partitioner places every key where Kafka's default partitioner does."""

from __future__ import annotations

import random
from pathlib import Path

from aiokafka.partitioner import DefaultPartitioner

from onex_stream.bootstrap import build_host, faust_app
from onex_stream.infra.event_bus.partitioner import default_partitioner

DEMO = Path(__file__).resolve().parents[3] / "contracts" / "runtime" / "dev_demo_host.yaml"


def test_every_key_length_lands_on_the_partition_aiokafkas_default_partitioner_picks() -> None:
    """Lengths 0-80 cover murmur2's 4-byte body and each 1-3 byte tail."""
    rng = random.Random(7)
    keys = [rng.randbytes(length) for length in range(81) for _ in range(20)]
    reference = DefaultPartitioner()
    for partitions in (1, 3, 8, 12, 100):
        every = list(range(partitions))
        for key in keys:
            assert default_partitioner(key, every, every) == reference(key, every, every)


def test_a_none_key_picks_an_available_partition() -> None:
    picked = {default_partitioner(None, [0, 1, 2, 3], [1, 3]) for _ in range(100)}
    assert picked == {1, 3}


def test_the_hosts_producer_partitions_with_it() -> None:
    host = build_host(DEMO, env={"ONEX_ENV": "test"}, bus_overrides={"web_enabled": False})
    assert faust_app(host).conf.producer_partitioner is default_partitioner
