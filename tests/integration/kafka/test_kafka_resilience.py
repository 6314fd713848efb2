"""Backpressure, broker outage and concurrent handlers against a real broker."""

from __future__ import annotations

import asyncio
import json
import random
import signal
from pathlib import Path

from aiokafka import AIOKafkaProducer

from onex_stream.bootstrap import build_host, faust_app
from onex_stream.core.enums import EnumHandlerType
from tests.integration.kafka.conftest import ContractFactory
from tests.support.delayed_handler import DelayedLocalHandler
from tests.support.kafka import TansuBroker
from tests.support.kafka_clients import AnswerReader, command, create_topics, produce
from tests.support.tcp_proxy import TcpProxy
from tests.support.workers import WorkerProcess

DELAY_APP = "tests.support.delay_worker"


def topics(domain: str) -> list[str]:
    return [f"onex.{domain}.orders.{signal}.v1" for signal in ("cmd", "evt", "error")]


def encoded(commands: list[dict]) -> tuple[list[bytes], list[bytes]]:
    return [json.dumps(c).encode() for c in commands], [
        c["correlation_id"].encode() for c in commands
    ]


def rss_mib() -> float:
    status = Path("/proc/self/status").read_text().splitlines()
    return int(next(line for line in status if line.startswith("VmRSS:")).split()[1]) / 1024


async def test_a_slow_handler_keeps_in_flight_envelopes_bounded_and_the_backlog_drains(
    kafka: TansuBroker, contract: ContractFactory
) -> None:
    await create_topics(kafka.bootstrap, topics("pressure"), partitions=4)
    commands = [command(n, payload={"delay_ms": 5}) for n in range(20_000)]
    await produce(kafka.bootstrap, topics("pressure")[0], *encoded(commands))
    path = contract(
        kafka.bootstrap,
        group="pressure",
        domain="pressure",
        create_topics=False,
        concurrency=50,
        max_inflight=1000,
    )
    host = build_host(
        path,
        env={"ONEX_ENV": "test"},
        bus_overrides={"web_enabled": False},
        extra_handlers={EnumHandlerType.LOCAL: DelayedLocalHandler},
    )
    app = faust_app(host)
    in_flight: list[int] = []
    memory: list[float] = []
    async with AnswerReader(kafka.bootstrap, topics("pressure")[1]) as reader:
        await app.start()
        try:
            reading = asyncio.ensure_future(
                reader.read_until({c["envelope_id"] for c in commands}, seconds=180)
            )
            while not reading.done():
                in_flight.append(len(app.consumer._unacked_messages))  # Faust's pending acks
                memory.append(rss_mib())
                await asyncio.wait({reading}, timeout=0.02)
            await reading
        finally:
            await app.stop()
    print(
        f"\n20,000 envelopes behind a 5 ms handler: max in flight {max(in_flight)} "
        f"(bound 1000), RSS {memory[len(memory) // 10]:.0f} -> {memory[-1]:.0f} MiB"
    )
    assert max(in_flight) <= 1000
    assert memory[-1] - memory[len(memory) // 10] < 40
    assert reader.duplicates == 0


async def test_the_worker_recovers_from_a_five_second_broker_outage_without_restart(
    contract: ContractFactory, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    broker = TansuBroker(proxy_class=TcpProxy, log_path=tmp_path / "tansu.log").start()
    try:
        await create_topics(broker.bootstrap, topics("outage"), partitions=4)
        path = contract(broker.bootstrap, group="outage", domain="outage", create_topics=False)
        worker = WorkerProcess(path).start()
        workers.append(worker)
        worker.wait_ready()
        batches = [[command(n + 100 * b) for n in range(100)] for b in range(3)]
        expected = {c["envelope_id"] for batch in batches for c in batch}
        producer = AIOKafkaProducer(
            bootstrap_servers=broker.bootstrap, acks="all", request_timeout_ms=60_000
        )
        await producer.start()
        try:
            before = [
                await producer.send(topics("outage")[0], v, key=k)
                for v, k in zip(*encoded(batches[0]), strict=True)
            ]
            await asyncio.gather(*before)
            assert broker.proxy is not None
            broker.proxy.cut()
            during = [
                await producer.send(topics("outage")[0], v, key=k)
                for v, k in zip(*encoded(batches[1]), strict=True)
            ]
            await asyncio.wait(during, timeout=5)
            broker.proxy.restore()
            await asyncio.gather(*during)
            after = [
                await producer.send(topics("outage")[0], v, key=k)
                for v, k in zip(*encoded(batches[2]), strict=True)
            ]
            await asyncio.gather(*after)
        finally:
            await producer.stop()
        async with AnswerReader(broker.bootstrap, topics("outage")[1]) as reader:
            await reader.read_until(expected, seconds=90)
        assert worker.process is not None and worker.process.poll() is None
        print(f"\noutage of 5 s: 300 envelopes answered, {reader.duplicates} duplicates")
    finally:
        broker.stop()


async def test_concurrent_out_of_order_handlers_lose_nothing_on_sigkill(
    kafka: TansuBroker, contract: ContractFactory, workers: list[WorkerProcess]
) -> None:
    await create_topics(kafka.bootstrap, topics("concurrent"), partitions=4)
    path = contract(
        kafka.bootstrap,
        group="concurrent",
        domain="concurrent",
        create_topics=False,
        concurrency=16,
        max_inflight=400,
    )
    worker = WorkerProcess(path, app=DELAY_APP).start()
    workers.append(worker)
    worker.wait_ready()
    rng = random.Random(7)
    commands = [command(n, payload={"delay_ms": rng.randint(0, 30)}) for n in range(3000)]
    async with AnswerReader(kafka.bootstrap, topics("concurrent")[1]) as reader:
        await produce(kafka.bootstrap, topics("concurrent")[0], *encoded(commands))
        await reader.read_at_least(800, seconds=60)
        worker.signal(signal.SIGKILL)
        worker.wait()
        restarted = WorkerProcess(path, app=DELAY_APP).start()
        workers.append(restarted)
        await reader.read_until({c["envelope_id"] for c in commands}, seconds=120)
    print(f"\n3,000 envelopes, concurrency 16, SIGKILL: 0 lost, {reader.duplicates} duplicates")


async def test_a_contract_with_a_reserved_topic_is_refused_at_start(
    kafka: TansuBroker, contract: ContractFactory
) -> None:
    path = contract(kafka.bootstrap, group="reserved", domain="x")
    path.write_text(path.read_text().replace("onex.x.orders.cmd.v1", "onex.internal.orders.cmd.v1"))
    worker = WorkerProcess(path).start()
    try:
        assert worker.wait(timeout=60) == 1
    finally:
        worker.stop()
    assert "tenant 'internal' is a reserved namespace" in worker.output
    assert "Traceback" not in worker.output
