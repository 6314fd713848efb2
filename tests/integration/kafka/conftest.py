"""Fixtures for tests against a real Kafka-protocol broker (tansu)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.kafka import TansuBroker
from tests.support.kcat_compat import KcatCompatProxy
from tests.support.workers import WorkerProcess

NODE = """\
schema_version: "1.0.0"
name: "echo_compute"
node_type: "COMPUTE"
io_operations:
  - {type: local, operations: ["local.echo", "local.transform", "local.error"]}
"""
RUNTIME = """\
schema_version: "2.0.0"
runtime:
  name: "{group}"
  max_concurrent_operations: {concurrency}
  shutdown_timeout_seconds: {shutdown_timeout}
  event_bus:
    kind: kafka
    config:
      bootstrap_servers: "{bootstrap}"
      topics: {{input: "onex.{domain}.orders.cmd.v1"}}
      partitions: {partitions}
      create_topics: {create_topics}
      max_inflight_envelopes: {max_inflight}
      idempotence: false
      session_timeout_ms: 3000
      heartbeat_interval_ms: 300
      rebalance_timeout_ms: 1000
{extra}  handlers:
    - type: local
  nodes:
    - slug: echo_compute
"""

ContractFactory = Callable[..., Path]


@pytest.fixture(scope="session")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TansuBroker]:
    """One tansu broker for the session (tests use their own groups and topics).

    It is reached through ``KcatCompatProxy`` so that kcat can talk to it too.
    """
    log = tmp_path_factory.mktemp("tansu") / "broker.log"
    broker = TansuBroker(proxy_class=KcatCompatProxy, log_path=log).start()
    yield broker
    broker.stop()


@pytest.fixture
def contract(tmp_path: Path) -> ContractFactory:
    """Writes a kafka runtime contract (plus its node) and returns its path."""

    def write(
        bootstrap: str,
        *,
        group: str,
        domain: str,
        partitions: int = 4,
        create_topics: bool = True,
        concurrency: int = 1,
        shutdown_timeout: float = 10,
        max_inflight: int = 2000,
        extra: str = "",
    ) -> Path:
        (tmp_path / "nodes").mkdir(exist_ok=True)
        (tmp_path / "nodes" / "echo_compute.yaml").write_text(NODE)
        (tmp_path / "runtime").mkdir(exist_ok=True)
        path = tmp_path / "runtime" / f"{group}.yaml"
        path.write_text(
            RUNTIME.format(
                group=group,
                domain=domain,
                bootstrap=bootstrap,
                partitions=partitions,
                create_topics=str(create_topics).lower(),
                concurrency=concurrency,
                shutdown_timeout=shutdown_timeout,
                max_inflight=max_inflight,
                extra=extra,
            )
        )
        return path

    return write


@pytest.fixture
def workers() -> Iterator[list[WorkerProcess]]:
    """Worker processes started by a test; killed at its end whatever happened."""
    started: list[WorkerProcess] = []
    yield started
    for worker in started:
        worker.stop()
