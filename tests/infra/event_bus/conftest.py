"""Fixtures for the memory transport tests: a fresh broker and in-process Faust apps."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import faust
import pytest

from onex_stream.infra.event_bus.memory import MemoryBroker, get_broker, reset_brokers

#: Bound on starting or stopping one app (a start takes ~1 s: Faust's TableManager sleeps 1 s).
APP_START_STOP_TIMEOUT = 10.0


@pytest.fixture
def broker() -> Iterator[MemoryBroker]:
    """The default ``memory://`` broker, empty at the start and forgotten at the end."""
    reset_brokers()
    yield get_broker()
    reset_brokers()


@pytest.fixture
def make_app(tmp_path: Path) -> Callable[..., faust.App]:
    """Build a ``memory://`` Faust app with a unique id, no web server and a tmp datadir."""

    def make(app_id: str | None = None, **settings: Any) -> faust.App:
        app_id = app_id or f"t-{uuid.uuid4().hex[:10]}"
        settings.setdefault("store", "memory://")
        return faust.App(
            app_id,
            broker="memory://",
            web_enabled=False,
            datadir=str(tmp_path / app_id),
            **settings,
        )

    return make


@pytest.fixture
async def start_app() -> AsyncIterator[Callable[[faust.App], Awaitable[None]]]:
    """Start apps in-process (returns once recovery completed); stop them at teardown."""
    started: list[faust.App] = []

    async def start(app: faust.App) -> None:
        started.append(app)
        await asyncio.wait_for(app.start(), APP_START_STOP_TIMEOUT)

    yield start
    for app in reversed(started):
        await stop_app(app)


async def stop_app(app: faust.App) -> None:
    """Stop ``app`` if it is still running."""
    if not app.should_stop:
        await asyncio.wait_for(app.stop(), APP_START_STOP_TIMEOUT)
