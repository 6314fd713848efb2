"""ConsulHandler against a real dev-mode Consul agent (testcontainers; skipped without Docker).

The fake agent (tests/support/consul_fake.py) checks request shapes; this module checks
that a real ``hashicorp/consul`` agent agrees: register, get, health, deregister.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import pytest

from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.infra.handlers.consul import ConsulHandler

IMAGE = "hashicorp/consul:1.20"
AGENT_PORT = 8500


def docker_available() -> bool:
    """Whether ``docker info`` answers (a Docker engine this process may use)."""
    docker = shutil.which("docker")
    if docker is None:
        return False
    try:
        done = subprocess.run([docker, "info"], capture_output=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


pytestmark = pytest.mark.skipif(
    not docker_available(), reason="no Docker engine (`docker info` fails)"
)


@pytest.fixture(scope="module")
def consul_address() -> Iterator[str]:
    """A dev-mode Consul agent in a container; its HTTP address once the leader is elected."""
    from testcontainers.core.container import DockerContainer  # noqa: PLC0415 -- Docker only

    container = (
        DockerContainer(IMAGE)
        .with_command("agent -dev -client 0.0.0.0 -log-level warn")
        .with_exposed_ports(AGENT_PORT)
    )
    with container:
        host = container.get_container_host_ip()
        address = f"http://{host}:{container.get_exposed_port(AGENT_PORT)}"
        _wait_for_leader(address)
        yield address


def _wait_for_leader(address: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"{address}/v1/status/leader", timeout=5) as answer:
                if answer.read().strip() not in (b"", b'""'):
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the Consul container elected no leader")
        time.sleep(0.2)


def command(operation: str, payload: dict[str, Any]) -> ModelOnexEnvelope:
    """A consul command envelope."""
    return ModelOnexEnvelope(
        envelope_id=uuid4(),
        correlation_id=uuid4(),
        source_node="tests",
        handler_type=EnumHandlerType.CONSUL,
        operation=operation,
        payload=payload,
    )


async def run(handler: ConsulHandler, operation: str, **payload: Any) -> dict[str, Any]:
    """The answer of ``consul.<operation>``."""
    result = await handler.execute(command(f"consul.{operation}", payload))
    assert isinstance(result, dict)
    return result


async def test_register_get_health_and_deregister_against_a_real_agent(
    consul_address: str,
) -> None:
    handler = ConsulHandler()
    await handler.initialize({"address": consul_address, "datacenter": "dc1"})
    name = f"orders{uuid4().hex[:8]}"
    try:
        registered = await run(
            handler, "register_service", name=name, service_id=f"{name}-1", port=8080
        )
        assert registered == {"service_id": f"{name}-1"}
        found = await run(handler, "get_service", name=name, passing_only=False)
        assert [i["service_id"] for i in found["instances"]] == [f"{name}-1"]
        assert (await run(handler, "list_services"))["services"].get(name) is not None
        health = await run(handler, "health_check_service", name=name)
        assert health["status"] == "critical"  # Consul's answer for a service without checks
        await run(handler, "deregister_service", service_id=f"{name}-1")
        for _ in range(50):  # the agent syncs its catalog asynchronously
            found = await run(handler, "get_service", name=name, passing_only=False)
            if not found["instances"]:
                break
            await asyncio.sleep(0.1)
        assert found["instances"] == []
    finally:
        await handler.shutdown()
