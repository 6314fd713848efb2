"""Metrics, consumer lag and health endpoints of a host on memory://, scraped over HTTP."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from onex_stream.bootstrap import build_host
from onex_stream.core.enums import EnumHandlerType
from onex_stream.infra.handlers.policies import CircuitBreakerHandler, CircuitState
from onex_stream.infra.observability.health import HostHealth
from onex_stream.infra.observability.lag import LagMonitor
from onex_stream.infra.observability.metrics import HostMetrics
from tests.infra.observability.test_lag import Clock, ScriptedOffsets
from tests.support.deterministic import DeterministicClock, DeterministicIds
from tests.support.held_handler import HeldLocalHandler
from tests.support.hosts import RunningHost, running_host
from tests.support.tcp_proxy import free_port

RUNTIME = """\
schema_version: "2.0.0"
runtime:
  name: "observed_host"
  event_bus:
    config:
      topics: {input: "onex.obs.orders.cmd.v1"}
      partitions: 4
  metrics: {refresh_seconds: 0.05}
  handlers:
    - type: local
  nodes:
    - slug: echo_node
"""
NODE = """\
schema_version: "1.0.0"
name: echo_node
node_type: COMPUTE
io_operations:
  - {type: local, operations: ["local.echo", "local.error"]}
"""


def write_layout(tmp_path: Path) -> Path:
    """The runtime contract and its node under ``tmp_path``; the contract's path."""
    (tmp_path / "runtime").mkdir()
    (tmp_path / "nodes").mkdir()
    (tmp_path / "nodes" / "echo_node.yaml").write_text(NODE)
    (tmp_path / "runtime" / "host.yaml").write_text(RUNTIME)
    return tmp_path / "runtime" / "host.yaml"


@asynccontextmanager
async def observed_host(
    tmp_path: Path, ids: DeterministicIds, clock: DeterministicClock, *, rewrite: bool = True
) -> AsyncIterator[tuple[RunningHost, httpx.AsyncClient, str]]:
    """A held-back host serving its web pages; (host, HTTP client, base URL)."""
    HeldLocalHandler.reset()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    async with (
        running_host(
            write_layout(tmp_path) if rewrite else tmp_path / "runtime" / "host.yaml",
            ids=ids,
            clock=clock,
            extra_handlers={EnumHandlerType.LOCAL: HeldLocalHandler},
            web_enabled=True,
            web_port=port,
        ) as host,
        httpx.AsyncClient(base_url=url) as client,
    ):
        await wait_until(lambda: ready(client))
        yield host, client, url


@pytest.fixture
async def observed(
    tmp_path: Path, ids: DeterministicIds, clock: DeterministicClock
) -> AsyncIterator[tuple[RunningHost, httpx.AsyncClient]]:
    async with observed_host(tmp_path, ids, clock) as (host, client, _):
        yield host, client


async def ready(client: httpx.AsyncClient) -> bool:
    try:
        return (await client.get("/health/live")).status_code == 200
    except httpx.TransportError:
        return False


async def wait_until(check: Any, seconds: float = 10) -> None:
    """Poll an async predicate every 20 ms until it holds."""
    async with asyncio.timeout(seconds):
        while not await check():  # noqa: ASYNC110 -- polling an HTTP endpoint
            await asyncio.sleep(0.02)


async def samples(
    client: httpx.AsyncClient,
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = (await client.get("/metrics")).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def value(found: dict, name: str, **labels: str) -> float:
    return found.get((name, tuple(sorted(labels.items()))), 0.0)


def command(n: int, **fields: Any) -> dict[str, Any]:
    return {
        "envelope_id": f"00000000-0000-0000-0000-{n:012d}",
        "source_node": "client",
        "handler_type": "local",
        "operation": "local.echo",
        "payload": {"n": n},
        **fields,
    }


async def test_metrics_count_successes_failures_and_dead_letters(
    observed: tuple[RunningHost, httpx.AsyncClient],
) -> None:
    host, client = observed
    HeldLocalHandler.release.set()
    host.send(command(1))
    host.send(command(2, operation="local.error"))
    host.send(command(3, target_node="nowhere"))
    host.send(b"not json")
    await host.responses(3)
    await host.dead_letters(1)
    found = await samples(client)
    base = {"node": "echo_node", "handler_type": "local"}
    assert (
        value(found, "onex_envelopes_total", **base, operation="local.echo", outcome="success") == 1
    )
    assert (
        value(
            found,
            "onex_envelopes_total",
            **base,
            operation="local.error",
            outcome="HANDLER_EXECUTION_ERROR",
        )
        == 1
    )
    assert (
        value(
            found,
            "onex_envelopes_total",
            node="unknown",
            handler_type="local",
            operation="local.echo",
            outcome="NODE_NOT_FOUND",
        )
        == 1
    )
    assert (
        value(found, "onex_dead_letters_total", topic="onex.obs.orders.error.v1", reason="not_json")
        == 1
    )
    assert (
        value(
            found,
            "onex_handler_latency_seconds_count",
            handler_type="local",
            operation="local.echo",
        )
        == 1
    )
    assert value(found, "onex_handler_up", handler_type="local") == 1
    assert any(name == "onex_build_info" and v == 1 for (name, _), v in found.items())


async def test_consumer_lag_equals_the_backlog_and_drains_to_zero(
    observed: tuple[RunningHost, httpx.AsyncClient],
) -> None:
    host, client = observed
    for n in range(1000):
        host.send(command(n), key=f"k{n}".encode())
    topic, group = host.subscription.input, "observed_host"

    def true_backlog() -> dict[str, float]:
        ends = host.broker.end_offsets(topic)
        committed = host.broker.committed(group, topic)
        return {str(p): ends[p] - (committed[p] or 0) for p in ends}

    async def gauge_matches_backlog() -> bool:
        found = await samples(client)
        gauges = {
            str(p): value(found, "onex_consumer_lag", group=group, topic=topic, partition=str(p))
            for p in range(4)
        }
        return gauges == true_backlog() and sum(gauges.values()) == 1000

    await wait_until(gauge_matches_backlog)
    found = await samples(client)
    assert 0 < value(found, "onex_envelopes_in_flight") <= 2000
    HeldLocalHandler.release.set()
    await host.responses(1000, seconds=30)

    async def drained() -> bool:
        found = await samples(client)
        return all(
            value(found, "onex_consumer_lag", group=group, topic=topic, partition=str(p)) == 0
            for p in range(4)
        )

    await wait_until(drained)


async def test_readiness_follows_handler_health(
    observed: tuple[RunningHost, httpx.AsyncClient],
) -> None:
    _, client = observed
    ok = await client.get("/health/ready")
    assert ok.status_code == 200
    assert ok.json()["ready"] is True and ok.json()["assigned_partitions"] == 4
    HeldLocalHandler.healthy = False
    sick = await client.get("/health/ready")
    assert sick.status_code == 503
    assert sick.json()["reasons"] == ["handler local unhealthy"]
    handlers = (await client.get("/health/handlers")).json()
    assert handlers["local"]["healthy"] is False
    assert (await client.get("/health/live")).json()["live"] is True


async def test_readiness_is_503_before_partitions_are_assigned(tmp_path: Path) -> None:
    host = build_host(
        write_layout(tmp_path),
        env={"ONEX_ENV": "test"},
        bus_overrides={"web_enabled": False, "broker_url": "memory://unassigned"},
    )
    report = await HostHealth(host).readiness()
    assert report.ready is False
    assert report.reasons == ["handler local unhealthy", "no partitions assigned"]
    assert json.loads(json.dumps(report.as_json()))["ready"] is False


async def test_readiness_names_the_broker_once_its_offsets_go_unanswered(tmp_path: Path) -> None:
    host = build_host(
        write_layout(tmp_path),
        env={"ONEX_ENV": "test"},
        bus_overrides={"web_enabled": False, "broker_url": "memory://stale-broker"},
    )
    source, clock = ScriptedOffsets(), Clock()
    monitor = LagMonitor(source, HostMetrics(), "g", refresh_seconds=2, clock=clock)
    health = HostHealth(host, monitor)
    assert not any("broker" in r for r in (await health.readiness()).reasons)

    clock.now += 3 * 2 + 0.5
    report = await health.readiness()
    assert report.ready is False
    assert "broker unreachable: no answer from memory://stale-broker for 6 s" in report.reasons


async def test_the_status_page_shows_lag_outcomes_handlers_and_dead_letters(
    observed: tuple[RunningHost, httpx.AsyncClient],
) -> None:
    host, client = observed
    HeldLocalHandler.release.set()
    host.send(command(1))
    host.send(b"[]")
    await host.responses(1)
    await host.dead_letters(1)
    page = (await client.get("/status")).text
    assert '<meta http-equiv="refresh"' in page
    for text in (
        "Consumer lag",
        "onex.obs.orders.cmd.v1",
        "success",
        "Handlers",
        "local",
        "Dead letters",
        "not_object",
    ):
        assert text in page


async def test_an_open_circuit_is_reported_degraded_and_the_worker_stays_ready(
    tmp_path: Path, ids: DeterministicIds, clock: DeterministicClock
) -> None:
    contract = write_layout(tmp_path)
    contract.write_text(
        RUNTIME.replace(
            "    - type: local\n",
            "    - type: local\n      config: {circuit_breaker: {failure_threshold: 1}}\n",
        )
    )
    async with observed_host(tmp_path, ids, clock, rewrite=False) as (host, client, _):
        handler: Any = host.host.runtime.handlers[EnumHandlerType.LOCAL]
        while not isinstance(handler, CircuitBreakerHandler):
            handler = handler.inner
        handler._opened_at = time.monotonic()  # as if the backend had just failed
        handler._set(CircuitState.OPEN)
        ready_report = await client.get("/health/ready")
        assert ready_report.status_code == 200, ready_report.json()
        assert ready_report.json()["ready"] is True
        assert ready_report.json()["degraded"] == ["local"]
        handlers = (await client.get("/health/handlers")).json()
        assert handlers["local"]["circuit"] == "open"
        assert handlers["local"]["degraded"] is True
        found = await samples(client)
        assert value(found, "onex_handler_circuit_state", handler_type="local") == 2
