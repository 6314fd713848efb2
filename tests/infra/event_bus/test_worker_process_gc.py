"""A worker process freezes its start-up objects out of the garbage collector's passes;
an app run in someone else's process (a test, an embedding) never touches the collector."""

from __future__ import annotations

import gc
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from onex_stream.infra.event_bus.faust_app import HostApp


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the test process's objects go back to the collector


async def started_and_stopped(app: HostApp) -> int:
    """The collector's frozen objects once ``app`` started."""
    await app.start()
    try:
        return gc.get_freeze_count()
    finally:
        await app.stop()
        assert app._deadline is None  # a finished stop leaves no deadline to end the process


def host_app(tmp_path: Path) -> HostApp:
    name = f"t-gc-{uuid.uuid4().hex[:8]}"
    return HostApp(name, broker="memory://", web_enabled=False, datadir=str(tmp_path / name))


@pytest.mark.usefixtures("unfrozen")
async def test_a_worker_process_freezes_its_start_up_objects(tmp_path: Path) -> None:
    app = host_app(tmp_path)
    app.owns_process = True
    assert await started_and_stopped(app) > 10_000  # Faust's, aiokafka's, this test's...


@pytest.mark.usefixtures("unfrozen")
async def test_an_app_in_someone_elses_process_leaves_the_collector_alone(
    tmp_path: Path,
) -> None:
    assert await started_and_stopped(host_app(tmp_path)) == 0
