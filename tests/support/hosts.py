"""Running a runtime host in process on a private memory:// broker, for tests."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

from onex_stream.bootstrap import build_host
from onex_stream.core.contracts import ModelSubscription
from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.infra.event_bus.memory import MemoryBroker, Record, get_broker
from onex_stream.infra.runtime.host import RuntimeHost
from onex_stream.infra.runtime.wiring import HandlerClass
from tests.support.deterministic import DeterministicClock, DeterministicIds

FAST_COMMITS = {"broker_commit_interval": 0.05}


@dataclass
class RunningHost:
    """A started host, its broker and its first subscription's topics."""

    host: RuntimeHost
    broker: MemoryBroker
    subscription: ModelSubscription

    def send(
        self, value: dict[str, Any] | bytes, key: bytes | None = None, partition: int | None = None
    ) -> tuple[int, int]:
        """Append a command (a dict is JSON-encoded) to the command topic."""
        raw = value if isinstance(value, bytes) else json.dumps(value).encode()
        return self.broker.append(self.subscription.input, raw, key=key, partition=partition)

    async def responses(self, count: int, seconds: float = 5.0) -> list[ModelOnexEnvelope]:
        """Wait for ``count`` responses on the event topic; all of them, decoded."""
        await self.broker.wait_for_records(self.subscription.event_topic, count, seconds)
        return [ModelOnexEnvelope.from_json(r.value or b"") for r in self.records("event")]

    async def dead_letters(self, count: int, seconds: float = 5.0) -> list[Record]:
        """Wait for ``count`` dead letters; all of them."""
        await self.broker.wait_for_records(self.subscription.dead_letter_topic, count, seconds)
        return self.records("dead_letter")

    def records(self, which: str) -> list[Record]:
        """Records of the event (``event``) or dead-letter (``dead_letter``) topic."""
        topic = getattr(self.subscription, f"{which}_topic")
        return [
            r
            for p in range(self.broker.partitions_for(topic) or 0)
            for r in self.broker.records(topic, p)
        ]


@asynccontextmanager
async def running_host(
    contract: Path,
    *,
    ids: DeterministicIds,
    clock: DeterministicClock,
    env: Mapping[str, str] | None = None,
    extra_handlers: Mapping[EnumHandlerType, HandlerClass] | None = None,
    **bus_overrides: object,
) -> AsyncIterator[RunningHost]:
    """Build and start a host on a fresh ``memory://`` broker (or the ``broker_url`` given,
    to restart a worker on the same broker); stop it afterwards."""
    url = str(bus_overrides.pop("broker_url", f"memory://{uuid4().hex}"))
    overrides = {"broker_url": url, "web_enabled": False, "faust_options": FAST_COMMITS}
    host = build_host(
        contract,
        env=env if env is not None else {"ONEX_ENV": "test"},
        ids=ids,
        clock=clock,
        extra_handlers=extra_handlers,
        bus_overrides={**overrides, **bus_overrides},
        logs="as-is",
    )
    await host.bus.start_consuming()
    try:
        yield RunningHost(host, get_broker(url), host.definition.contract.runtime.subscriptions[0])
    finally:
        await host.bus.shutdown()
