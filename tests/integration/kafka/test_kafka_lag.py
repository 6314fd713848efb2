"""onex_consumer_lag on a real broker equals the backlog the broker itself reports."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client.parser import text_string_to_metric_families

from onex_stream.bootstrap import build_host, faust_app
from onex_stream.core.enums import EnumHandlerType
from tests.integration.kafka.conftest import ContractFactory
from tests.support.held_handler import HeldLocalHandler
from tests.support.kafka import TansuBroker
from tests.support.kafka_clients import (
    command,
    committed_offsets,
    create_topics,
    produce,
    record_counts,
)
from tests.support.tcp_proxy import free_port

SIGNALS = ("cmd", "evt", "error")


async def lag_gauges(client: httpx.AsyncClient) -> dict[int, float]:
    text = (await client.get("/metrics")).text
    return {
        int(s.labels["partition"]): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == "onex_consumer_lag"
    }


async def broker_backlog(bootstrap: str, group: str, topic: str) -> dict[int, float]:
    """End offsets (ListOffsets) minus committed offsets, as the broker reports them."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(4)]
        ends = await consumer.end_offsets(tps)
    finally:
        await consumer.stop()
    committed = await committed_offsets(bootstrap, group, topic)
    return {tp.partition: ends[tp] - committed.get(tp.partition, 0) for tp in tps}


@asynccontextmanager
async def held_host(
    kafka: TansuBroker, contract: ContractFactory, domain: str, *, batched: bool
) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A host on ``onex.<domain>.orders.*`` whose handler is held, with 1,000 envelopes
    produced to it; yields an HTTP client of its web server and the command topic."""
    topic = f"onex.{domain}.orders.cmd.v1"
    await create_topics(kafka.bootstrap, [topic.replace("cmd", s) for s in SIGNALS], 4)
    path = contract(kafka.bootstrap, group=domain, domain=domain, create_topics=False,
                    extra="  metrics: {refresh_seconds: 0.1}\n")  # fmt: skip
    HeldLocalHandler.reset()
    port = free_port()
    host = build_host(path, env={"ONEX_ENV": "test"}, logs="as-is",
                      bus_overrides={"web_port": port},
                      extra_handlers={EnumHandlerType.LOCAL: HeldLocalHandler})  # fmt: skip
    app = faust_app(host)
    await app.start()
    try:
        async with asyncio.timeout(30):
            while len(app.consumer.assignment()) < 4:  # noqa: ASYNC110 -- group join
                await asyncio.sleep(0.05)
        commands = [command(n) for n in range(1000)]
        values = [json.dumps(c).encode() for c in commands]
        keys = [c["correlation_id"].encode() for c in commands]
        await produce(kafka.bootstrap, topic, values, keys, batched=batched)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            yield client, topic
    finally:
        HeldLocalHandler.release.set()
        await app.stop()


async def gauges_settle_at(client: httpx.AsyncClient, expected: dict[int, float]) -> None:
    async with asyncio.timeout(30):
        while await lag_gauges(client) != expected:  # noqa: ASYNC110 -- 0.1 s refresh
            await asyncio.sleep(0.05)


async def test_lag_gauge_equals_the_true_backlog_while_the_handler_is_held(
    kafka: TansuBroker, contract: ContractFactory
) -> None:
    """1,000 envelopes wait: the gauge equals the broker's offsets and a record count."""
    async with held_host(kafka, contract, "lagtrue", batched=False) as (client, topic):
        counted = await record_counts(kafka.bootstrap, topic, 4)
        assert sum(counted.values()) == 1000
        assert await broker_backlog(kafka.bootstrap, "lagtrue", topic) == counted
        await gauges_settle_at(client, counted)  # nothing committed: lag = records
        HeldLocalHandler.release.set()
        await gauges_settle_at(client, dict.fromkeys(range(4), 0))


async def test_lag_gauge_follows_the_brokers_offsets_even_when_tansu_under_reports(
    kafka: TansuBroker, contract: ContractFactory
) -> None:
    """tansu 0.6 bug: after batched produces its ListOffsets end offsets are too low.

    The gauge reports what the broker says (as it would on Kafka); the record count
    shows the difference. If this test starts failing, tansu fixed its bug.
    """
    async with held_host(kafka, contract, "lag", batched=True) as (client, topic):
        reported = await broker_backlog(kafka.bootstrap, "lag", topic)
        counted = await record_counts(kafka.bootstrap, topic, 4)
        await gauges_settle_at(client, reported)
        print(
            f"\ntansu after batched produce: ListOffsets says {sum(reported.values())}, "
            f"the topic holds {sum(counted.values())} records"
        )
        assert sum(counted.values()) == 1000 > sum(reported.values())
