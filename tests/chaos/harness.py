"""Pieces the chaos scenarios share: commands, a steady load, a breaker watch, readiness, a
scripted HTTP dependency. Transport-agnostic except :func:`circuit_breaker`,
:func:`watched_breaker` and :func:`readiness`, which need the host in this process."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from aiohttp import web
from aiohttp.test_utils import TestServer

from onex_stream.core.enums import EnumHandlerType
from onex_stream.infra.handlers.decorator import HandlerDecorator
from onex_stream.infra.handlers.policies import CircuitBreakerHandler, CircuitState
from onex_stream.infra.observability.health import HostHealth
from onex_stream.infra.runtime.host import RuntimeHost
from tests.chaos.ledger import BREAKER_OPEN, FAULT, Recorder

#: Request envelope ids: UUID(int=ID_BASE + n), far from the hosts' DeterministicIds.
ID_BASE = 1 << 64
#: Pause between two commands of a steady load (seconds).
PACE = 0.02


def request_id(n: int) -> UUID:
    """The envelope id of the ``n``-th command of a scenario."""
    return UUID(int=ID_BASE + n)


def command_number(envelope_id: UUID | str) -> int:
    """``n`` of the command whose envelope id is ``envelope_id`` (see :func:`request_id`)."""
    return UUID(str(envelope_id)).int - ID_BASE


def command(n: int, node: str, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The ``n``-th command of a scenario: ``operation`` on ``node``."""
    return {
        "envelope_id": str(request_id(n)),
        "correlation_id": str(UUID(int=2 * ID_BASE + n)),
        "source_node": "chaos",
        "target_node": node,
        "handler_type": operation.partition(".")[0],
        "operation": operation,
        "timestamp": "2024-01-01T00:00:00Z",
        "payload": payload,
    }


Send = Callable[[dict[str, Any], bytes], object]
"""Hands a command (and its key) to the transport; may return an awaitable (awaited)."""
Make = Callable[[int], tuple[dict[str, Any], bytes]]
"""The ``n``-th command of a load and its key."""


@dataclass
class Load:
    """Sends ``make(n)`` every :data:`PACE` seconds from ``start`` on, noting each in
    ``recorder``, until :meth:`stop`. ``make`` may change between commands."""

    send: Send
    make: Make
    recorder: Recorder
    start: int = 0
    sent: int = 0
    _stopped: asyncio.Event = field(default_factory=asyncio.Event)

    async def run(self) -> None:
        """Send until stopped."""
        while not self._stopped.is_set():
            value, key = self.make(self.start + self.sent)
            handed = self.send(value, key)
            if inspect.isawaitable(handed):
                await handed
            self.recorder.note_sent(value["envelope_id"])
            self.sent += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), PACE)

    def stop(self) -> None:
        """Stop after the command being sent."""
        self._stopped.set()


@contextlib.asynccontextmanager
async def running_load(load: Load) -> AsyncIterator[Load]:
    """``load`` running meanwhile; stopped (and awaited) on exit."""
    task = asyncio.create_task(load.run())
    try:
        yield load
    finally:
        load.stop()
        await task


async def readiness(host: RuntimeHost) -> dict[str, Any]:
    """``/health/ready`` as the host computes it (``HostHealth``, what the web page serves):
    ready, reasons, degraded handlers."""
    report = await HostHealth(host).readiness()
    return {"ready": report.ready, "reasons": report.reasons, "degraded": report.degraded}


def circuit_breaker(host: RuntimeHost, handler_type: EnumHandlerType) -> CircuitBreakerHandler:
    """The circuit breaker in ``handler_type``'s decorator chain (the host wraps each handler
    in ``InstrumentedHandler(with_policies(...))``)."""
    handler = host.runtime.handlers[handler_type]
    while not isinstance(handler, CircuitBreakerHandler):
        assert isinstance(handler, HandlerDecorator), f"{handler_type} has no circuit breaker"
        handler = handler.inner
    return handler


@contextlib.asynccontextmanager
async def watched_breaker(
    breaker: CircuitBreakerHandler, recorder: Recorder, period: float = 0.005
) -> AsyncIterator[None]:
    """Samples ``breaker.state`` every ``period`` s: notes each change in the recorder's
    timeline as ``breaker <STATE>`` and marks :data:`BREAKER_OPEN` the first time it is
    open after a ``fault`` mark."""
    last = breaker.state
    recorder.note(f"breaker {last.name}")

    async def watch() -> None:
        nonlocal last
        while True:
            state = breaker.state
            if state is not last:
                recorder.note(f"breaker {state.name}")
                last = state
            if state is CircuitState.OPEN and FAULT in recorder.marks:
                recorder.mark(BREAKER_OPEN)
            await asyncio.sleep(period)

    task = asyncio.create_task(watch())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def breaker_figures(recorder: Recorder) -> dict[str, object]:
    """How often the breaker opened, and its state at the end (from the timeline)."""
    states = [what.removeprefix("breaker ") for _, what in recorder.events("breaker ")]
    return {
        "breaker_openings": states.count("OPEN"),
        "breaker_final_state": states[-1] if states else "-",
    }


@dataclass
class Dependency:
    """A real HTTP server on 127.0.0.1 that the test scripts: every request to ``/call/*``
    is answered with ``status`` after ``delay`` seconds (or sooner on :meth:`release`, at
    teardown); ``/healthy/*`` always answers 200 at once. Records each arrival."""

    status: int = 200
    delay: float = 0.0
    url: str = ""
    arrivals: list[tuple[float, str, int]] = field(default_factory=list)  # (at, path, status)
    _release: asyncio.Event = field(default_factory=asyncio.Event)

    def calls(self, prefix: str = "/call/") -> int:
        """Requests received so far under ``prefix``."""
        return sum(1 for _, path, _ in self.arrivals if path.startswith(prefix))

    def release(self) -> None:
        """Answer every delayed request now."""
        self._release.set()

    async def _call(self, request: web.Request) -> web.Response:
        status, delay = self.status, self.delay
        self.arrivals.append((time.monotonic(), request.path, status))
        if delay:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._release.wait(), delay)
        return web.json_response({"path": request.path}, status=status)

    async def _healthy(self, request: web.Request) -> web.Response:
        self.arrivals.append((time.monotonic(), request.path, 200))
        return web.json_response({"path": request.path})


@contextlib.asynccontextmanager
async def dependency() -> AsyncIterator[Dependency]:
    """A :class:`Dependency` serving on a free loopback port."""
    scripted = Dependency()
    app = web.Application()
    app.router.add_get("/call/{rest:.*}", scripted._call)
    app.router.add_get("/healthy/{rest:.*}", scripted._healthy)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(access_log=None)
    scripted.url = f"http://127.0.0.1:{server.port}"
    try:
        yield scripted
    finally:
        scripted.release()
        await server.close()
