"""Canaries: each Faust internal the host overrides or reads still exists in the installed Faust."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path

import pytest
from faust.transport.consumer import Consumer

from onex_stream.infra.event_bus.faust_app import HostApp
from onex_stream.infra.event_bus.faust_overrides import OVERRIDDEN, READ_STATE

OVERRIDES = [(target, name) for target, names in OVERRIDDEN.items() for name in names]


def faust_class(target: str) -> type:
    module, _, name = target.partition(":")
    cls: type = getattr(importlib.import_module(module), name)
    return cls


@pytest.mark.parametrize(("target", "name"), OVERRIDES, ids=[f"{t}.{n}" for t, n in OVERRIDES])
def test_each_overridden_faust_method_still_exists(target: str, name: str) -> None:
    assert callable(getattr(faust_class(target), name, None))


STATE = [(target, name) for target, names in READ_STATE.items() for name in names]


@pytest.mark.parametrize(("target", "name"), STATE, ids=[f"{t}.{n}" for t, n in STATE])
def test_the_faust_state_the_overrides_read_still_exists(target: str, name: str) -> None:
    assert name in faust_class(target).__annotations__


def test_faust_still_races_each_hand_over_and_blocks_it_only_where_the_drain_looks() -> None:
    """What DirectDrainMixin replaces (a ``wait_first`` per record) and what it checks
    before awaiting a hand-over directly: flow control, then full stream buffers."""
    from faust.transport.conductor import ConductorCompiler  # noqa: PLC0415

    assert "wait_first(" in inspect.getsource(Consumer._drain_messages)
    hand_over = inspect.getsource(ConductorCompiler.build)
    assert "await acquire_flow_control()" in hand_over
    assert "if queue.full():" in hand_over


def test_faust_still_drains_through_the_callback_the_commit_guard_wraps() -> None:
    assert "self.callback = callback" in inspect.getsource(Consumer.__init__)
    assert "callback = self.callback" in inspect.getsource(Consumer._drain_messages)


def test_faust_still_sleeps_one_second_when_every_partition_is_paused() -> None:
    """What PromptResumeMixin shortens; if Faust stops doing this, the mixin can go."""
    assert "sleep(1" in inspect.getsource(Consumer._wait_next_records)


def test_recovery_still_signals_before_it_resumes_streams_and_clears_their_queues() -> None:
    """What HeldStreamsMixin relies on: ``on_rebalance_complete`` is sent first, the
    stream queues are cleared (``flow_control.resume``) before ``consumer.resume_flow``."""
    from faust.tables.recovery import Recovery  # noqa: PLC0415

    source = inspect.getsource(Recovery.on_recovery_completed)
    order = [
        source.index("on_rebalance_complete.send()"),
        source.index("consumer.resume_partitions("),
        source.index("flow_control.resume()"),
        source.index("consumer.resume_flow()"),
    ]
    assert order == sorted(order)


def test_the_conductor_still_waits_on_the_producer_buffer_it_finds_at_compile_time() -> None:
    """What ProducerEbbMixin replaces: the conductor binds ``app.producer.buffer``'s
    ``wait_until_ebb`` and awaits it per record; Faust's waits only over the limit."""
    from faust.transport.conductor import ConductorCompiler  # noqa: PLC0415
    from faust.transport.producer import ProducerBuffer  # noqa: PLC0415

    hand_over = inspect.getsource(ConductorCompiler.build)
    assert "= app.producer.buffer.wait_until_ebb" in hand_over
    assert "await wait_until_producer_ebb()" in hand_over
    assert "if self.size > self.max_messages:" in inspect.getsource(ProducerBuffer.wait_until_ebb)


async def test_the_producer_buffer_wait_lets_records_pass_up_to_its_limit_and_waits_over_it(
    tmp_path: Path,
) -> None:
    """Over the limit Faust's own wait runs: on a buffer that is not running it refuses
    to flush, which shows it was reached."""
    app = HostApp("t-ebb", broker="memory://", web_enabled=False, datadir=str(tmp_path))
    buffer = app.producer.buffer
    for _ in range(buffer.max_messages):
        buffer.pending.put_nowait(object())
    await buffer.wait_until_ebb()  # at the limit: no wait
    buffer.pending.put_nowait(object())
    with pytest.raises(RuntimeError, match="Cannot flush"):
        await buffer.wait_until_ebb()
