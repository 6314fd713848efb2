"""One runtime host per process: a second start is refused; a stop or a failed start frees it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from onex_stream.bootstrap import build_host
from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.errors import HandlerConfigurationError, HostStartError, cannot_start
from onex_stream.core.handlers.local import LocalHandler
from onex_stream.infra.runtime import host_slot
from onex_stream.infra.runtime.host import RuntimeHost
from tests.support.contracts import ECHO_NODE, write_contract
from tests.support.deterministic import DeterministicClock, DeterministicIds
from tests.support.hosts import running_host

RUNTIME = """\
schema_version: "2.0.0"
runtime:
  name: "{name}"
  event_bus:
    kind: "inmemory"
    config:
      topics: {{input: "onex.test.{name}.cmd.v1"}}
      partitions: 1
  handlers:
    - type: "local"
  nodes:
    - slug: "echo_node"
"""


class FailingLocalHandler(LocalHandler):
    """A local handler that cannot initialize."""

    async def initialize(self, config: Mapping[str, Any]) -> None:
        raise HandlerConfigurationError("refused on purpose", handler_type="local")


def contract(root: Path, name: str) -> Path:
    return write_contract(root / name, RUNTIME.format(name=name), {"echo_node": ECHO_NODE})


def command(n: int) -> dict[str, Any]:
    return {
        "envelope_id": str(UUID(int=n)),
        "correlation_id": str(UUID(int=1000 + n)),
        "source_node": "client",
        "handler_type": "local",
        "operation": "local.echo",
        "payload": {"n": n},
    }


def built(path: Path, **extra: Any) -> RuntimeHost:
    overrides = {"broker_url": f"memory://{uuid4().hex}", "web_enabled": False}
    env = {"ONEX_ENV": "test"}
    return build_host(path, env=env, bus_overrides=overrides, logs="as-is", **extra)


async def test_a_second_host_started_while_one_runs_is_refused_with_one_line(
    tmp_path: Path, ids: DeterministicIds, clock: DeterministicClock
) -> None:
    first_path, second_path = contract(tmp_path, "first"), contract(tmp_path, "second")
    async with running_host(first_path, ids=ids, clock=clock) as first:
        second = built(second_path)
        try:
            with pytest.raises(HostStartError) as raised:
                await second.bus.start_consuming()
        finally:
            await second.bus.shutdown()
        line = cannot_start(raised.value)
        assert line == (
            f"cannot start: {second_path}: runtime host 'second' refused: runtime host "
            f"'first' ({first_path}) is already running in this process; run one host per "
            "process (start another worker process to run another host)"
        )
        assert host_slot.holder() == "first"
        first.send(command(1))  # the running host is undisturbed
        (answer,) = await first.responses(1)
        assert answer.success


async def test_after_the_running_host_stops_a_new_host_starts(
    tmp_path: Path, ids: DeterministicIds, clock: DeterministicClock
) -> None:
    async with running_host(contract(tmp_path, "first"), ids=ids, clock=clock):
        assert host_slot.holder() == "first"
    assert host_slot.holder() is None
    async with running_host(contract(tmp_path, "second"), ids=ids, clock=clock) as second:
        assert host_slot.holder() == "second"
        second.send(command(2))
        (answer,) = await second.responses(1)
        assert answer.success


async def test_a_failed_start_gives_the_slot_back(tmp_path: Path) -> None:
    failing = built(
        contract(tmp_path, "failing"), extra_handlers={EnumHandlerType.LOCAL: FailingLocalHandler}
    )
    with pytest.raises(HostStartError, match="the local handler failed to initialize"):
        await failing.start()
    assert host_slot.holder() is None
    healthy = built(contract(tmp_path, "healthy"))
    await healthy.start()
    try:
        assert host_slot.holder() == "healthy"
    finally:
        await healthy.stop()
    assert host_slot.holder() is None


def test_only_the_holder_gives_the_slot_back_and_claiming_again_is_harmless() -> None:
    holder, other = object(), object()
    host_slot.claim(holder, "one", "one.yaml")
    try:
        host_slot.claim(holder, "one", "one.yaml")
        host_slot.release(other)
        assert host_slot.holder() == "one"
        with pytest.raises(HostStartError, match=r"^two\.yaml: runtime host 'two' refused"):
            host_slot.claim(other, "two", "two.yaml")
    finally:
        host_slot.release(holder)
    assert host_slot.holder() is None
