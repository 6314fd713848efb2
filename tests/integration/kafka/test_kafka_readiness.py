"""Readiness follows the broker: 503 naming it while it cannot be reached, 200 after."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx

from tests.integration.kafka.conftest import ContractFactory
from tests.support.kafka import TansuBroker
from tests.support.kafka_clients import create_topics
from tests.support.tcp_proxy import TcpProxy, free_port
from tests.support.workers import WorkerProcess

OUTAGE_SECONDS = 3
TOPICS = ["onex.ready.orders.cmd.v1", "onex.ready.orders.evt.v1", "onex.ready.orders.error.v1"]


async def wait_for_status(client: httpx.AsyncClient, status: int, seconds: float) -> dict:
    """Poll ``/health/ready`` every 20 ms until it answers ``status``; its body."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            answer = await client.get("/health/ready")
            if answer.status_code == status:
                body: dict = answer.json()
                return body
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"/health/ready never answered {status}"
        await asyncio.sleep(0.02)


async def test_readiness_is_503_naming_the_broker_while_it_is_cut_and_200_after(
    contract: ContractFactory, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    broker = TansuBroker(proxy_class=TcpProxy, log_path=tmp_path / "tansu.log").start()
    port = free_port()
    try:
        await create_topics(broker.bootstrap, TOPICS, partitions=2)
        path = contract(
            broker.bootstrap,
            group="ready",
            domain="ready",
            partitions=2,
            create_topics=False,
            shutdown_timeout=2,
            extra=f"  metrics: {{refresh_seconds: 0.2}}\n  health: {{port: {port}}}\n",
        )
        worker = WorkerProcess(path, web=True).start()
        workers.append(worker)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            await wait_for_status(client, 200, seconds=30)
            assert broker.proxy is not None
            broker.proxy.cut()
            cut_at = time.monotonic()
            down = await wait_for_status(client, 503, seconds=10)
            unready_after = time.monotonic() - cut_at
            reason = next(r for r in down["reasons"] if r.startswith("broker unreachable"))
            assert f"kafka://{broker.bootstrap}" in reason
            while time.monotonic() - cut_at < OUTAGE_SECONDS:  # unready all along
                assert (await client.get("/health/ready")).status_code == 503
                await asyncio.sleep(0.02)
            broker.proxy.restore()
            restored_at = time.monotonic()
            await wait_for_status(client, 200, seconds=30)
            print(
                f"\nunready {unready_after:.1f} s after the cut; "
                f"ready {time.monotonic() - restored_at:.1f} s after the restore"
            )
    finally:
        broker.stop()
