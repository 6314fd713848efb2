"""The commit guard: no offset is committed past a delivered record that was not acked."""

from __future__ import annotations

import asyncio
from typing import Any

import faust
import pytest
from faust.transport.consumer import Consumer

from onex_stream.infra.event_bus.faust_overrides import CommitGuardMixin
from onex_stream.infra.event_bus.kafka.transport import PromptConsumer
from onex_stream.infra.event_bus.memory import MemoryBroker
from onex_stream.infra.event_bus.memory.consumer import MemoryConsumer
from tests.infra.event_bus.conftest import stop_app

WAIT_TIMEOUT = 5.0


class Held:
    """Events an agent received without acking them, by offset."""

    def __init__(self) -> None:
        self.events: dict[int, Any] = {}
        self.grew = asyncio.Event()

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(WAIT_TIMEOUT):
            while len(self.events) < count:
                self.grew.clear()
                await self.grew.wait()


def holding_agent(app: faust.App, topic: str) -> Held:
    """An agent that keeps every event unacked until the test acks it."""
    held = Held()

    @app.agent(app.topic(topic, value_serializer="raw"))
    async def hold(stream: Any) -> None:
        async for event in stream.noack().events():
            held.events[event.message.offset] = event
            held.grew.set()

    return held


async def started_holding(
    broker: MemoryBroker, make_app: Any, start_app: Any, records: int
) -> tuple[faust.App, Held]:
    """An app whose agent holds ``records`` records of partition 0 of ``in``, all unacked."""
    broker.create_topic("in", 1)
    for n in range(records):
        broker.append("in", str(n).encode(), partition=0)
    app = make_app(broker_commit_interval=3600, stream_wait_empty=False)
    held = holding_agent(app, "in")
    await start_app(app)
    await held.wait_for(records)
    return app, held


async def committed_after_a_commit(app: faust.App, broker: MemoryBroker, topic: str) -> Any:
    await app.consumer.commit()
    return broker.committed(app.conf.id, topic)[0]


@pytest.mark.parametrize("consumer", [MemoryConsumer, PromptConsumer])
def test_both_transports_commit_through_the_guard(consumer: type[Consumer]) -> None:
    assert issubclass(consumer, CommitGuardMixin)
    assert consumer._new_offset is CommitGuardMixin._new_offset


async def test_an_unacked_head_holds_the_commit_back_though_later_records_are_acked(
    broker: MemoryBroker, make_app: Any, start_app: Any
) -> None:
    """faust-streaming #606 commits 10 here (a fresh group, acks 1..9, 0 in flight)."""
    app, held = await started_holding(broker, make_app, start_app, records=10)

    for offset in range(1, 10):
        held.events[offset].ack()
    assert (await committed_after_a_commit(app, broker, "in") or 0) == 0  # nothing past 0

    held.events[0].ack()
    assert await committed_after_a_commit(app, broker, "in") == 10


async def test_a_single_unacked_record_after_a_commit_holds_it_back(
    broker: MemoryBroker, make_app: Any, start_app: Any
) -> None:
    """Faust's head check (``min(acked) - committed > 1``) lets one missing offset pass."""
    app, held = await started_holding(broker, make_app, start_app, records=6)
    for offset in (0, 1, 2):
        held.events[offset].ack()
    assert await committed_after_a_commit(app, broker, "in") == 3

    for offset in (4, 5):
        held.events[offset].ack()
    assert await committed_after_a_commit(app, broker, "in") == 3
    held.events[3].ack()
    assert await committed_after_a_commit(app, broker, "in") == 6


async def test_a_stopped_worker_commits_only_up_to_its_first_unanswered_record(
    broker: MemoryBroker, make_app: Any, start_app: Any
) -> None:
    app, held = await started_holding(broker, make_app, start_app, records=5)
    for offset in (0, 1, 3, 4):
        held.events[offset].ack()

    await stop_app(app)
    assert broker.committed(app.conf.id, "in") == {0: 2}
