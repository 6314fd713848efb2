"""Which address the web server listens on (contract, host CLI) and what /metrics answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from onex_stream.cli import host as host_cli
from onex_stream.core.contracts import load_runtime_contract
from tests.support.contracts import ECHO_NODE, write_contract
from tests.support.deterministic import DeterministicClock, DeterministicIds
from tests.support.hosts import running_host
from tests.support.tcp_proxy import free_port

PROMETHEUS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
)


def contract(tmp_path: Path, health: str = "") -> Path:
    runtime = f"""\
schema_version: "2.0.0"
runtime:
  name: "exposed_host"
  event_bus:
    config:
      topics: {{input: "onex.web.orders.cmd.v1"}}
      partitions: 2
  metrics: {{refresh_seconds: 0.05}}
  handlers:
    - type: local
  nodes:
    - slug: echo_node
{health}"""
    return write_contract(tmp_path, runtime, {"echo_node": ECHO_NODE})


async def answers(address: str, port: int, path: str = "/health/live") -> bool:
    """Whether ``address:port`` accepts a connection and answers ``path``."""
    try:
        async with httpx.AsyncClient(base_url=f"http://{address}:{port}") as client:
            return (await client.get(path, timeout=2)).status_code == 200
    except httpx.TransportError:
        return False


@asynccontextmanager
async def serving(
    path: Path, ids: DeterministicIds, clock: DeterministicClock, **overrides: Any
) -> AsyncIterator[int]:
    """A host on ``path`` serving its web pages; the port."""
    port = free_port()
    async with running_host(
        path, ids=ids, clock=clock, web_enabled=True, web_port=port, **overrides
    ):
        async with asyncio.timeout(10):
            while not await answers("127.0.0.1", port) and not await answers("127.0.0.2", port):  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        yield port


def test_the_contract_binds_loopback_unless_told_otherwise(tmp_path: Path) -> None:
    default = load_runtime_contract(contract(tmp_path))
    assert default.runtime.health.bind == "127.0.0.1"
    told = load_runtime_contract(contract(tmp_path, '  health: {bind: "0.0.0.0"}\n'))
    assert told.runtime.health.bind == "0.0.0.0"


@pytest.mark.parametrize("bind", ["127.0.0.1.5", "10.0.0.256", "a b", "::1::2"])
def test_a_malformed_bind_address_is_refused_at_load(tmp_path: Path, bind: str) -> None:
    with pytest.raises(Exception, match="bind"):
        load_runtime_contract(contract(tmp_path, f'  health: {{bind: "{bind}"}}\n'))


async def test_by_default_the_web_server_answers_on_127_0_0_1_only(
    tmp_path: Path, ids: DeterministicIds, clock: DeterministicClock
) -> None:
    async with serving(contract(tmp_path), ids, clock) as port:
        assert await answers("127.0.0.1", port)
        assert not await answers("127.0.0.2", port)  # another address of this machine


async def test_a_contract_bind_of_every_interface_answers_on_any_address(
    tmp_path: Path, ids: DeterministicIds, clock: DeterministicClock
) -> None:
    path = contract(tmp_path, '  health: {bind: "0.0.0.0"}\n')
    async with serving(path, ids, clock) as port:
        assert await answers("127.0.0.1", port)
        assert await answers("127.0.0.2", port)


async def test_a_bind_override_wins_over_the_contract(
    tmp_path: Path, ids: DeterministicIds, clock: DeterministicClock
) -> None:
    path = contract(tmp_path, '  health: {bind: "0.0.0.0"}\n')
    async with serving(path, ids, clock, web_bind="127.0.0.2") as port:
        assert await answers("127.0.0.2", port)
        assert not await answers("127.0.0.1", port)


def test_the_host_cli_passes_web_bind_to_the_faust_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[Any] = []

    class FakeWorker:
        def __init__(self, app: Any, loglevel: str) -> None:
            started.append(app)

        def execute_from_commandline(self) -> None:
            pass

    monkeypatch.setattr(host_cli.faust, "Worker", FakeWorker)
    monkeypatch.setenv("ONEX_ENV", "test")
    monkeypatch.setenv("ONEX_LOG_FORMAT", "human")
    path = contract(tmp_path, '  health: {bind: "127.0.0.1", port: 6199}\n')
    assert host_cli.main([str(path), "--web-bind", "0.0.0.0", "--web-port", "6200"]) == 0
    assert started[0].conf.web_bind == "0.0.0.0"
    assert started[0].conf.web_port == 6200
    assert host_cli.main([str(path)]) == 0
    assert started[1].conf.web_bind == "127.0.0.1"
    assert started[1].conf.web_port == 6199


async def test_metrics_over_http_are_openmetrics_for_prometheus_and_text_for_curl(
    tmp_path: Path, ids: DeterministicIds, clock: DeterministicClock
) -> None:
    async with (
        serving(contract(tmp_path), ids, clock) as port,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
    ):
        scraped = await client.get("/metrics", headers={"Accept": PROMETHEUS_ACCEPT})
        assert scraped.headers["content-type"].startswith("application/openmetrics-text")
        families = {f.name for f in text_string_to_metric_families(scraped.text)}
        assert {"onex_envelopes_in_flight", "process_resident_memory_bytes"} <= families
        assert "_created" not in scraped.text
        plain = await client.get("/metrics", headers={"Accept": "*/*"})
        assert plain.headers["content-type"].startswith("text/plain; version=0.0.4")
        assert "# EOF" not in plain.text and "_created" not in plain.text


async def test_the_ready_gauge_turns_1_once_the_host_consumes(
    tmp_path: Path, ids: DeterministicIds, clock: DeterministicClock
) -> None:
    async with (
        serving(contract(tmp_path), ids, clock) as port,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client,
    ):
        async with asyncio.timeout(10):
            while (await client.get("/health/ready")).status_code != 200:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
            while "onex_ready 1.0" not in (await client.get("/metrics")).text:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
