"""The db handler connects within connect_timeout_ms, whatever its (call) timeout_ms."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest

from onex_stream.core.errors import HandlerTimeoutError
from onex_stream.infra.handlers.db import DbHandler
from tests.infra.handlers.conftest import Database, command
from tests.support.postgres import EmbeddedPostgres

Start = Callable[..., Awaitable[Any]]


class SlowAcceptProxy:
    """A loopback proxy to PostgreSQL that waits ``delay`` seconds before forwarding."""

    def __init__(self, target_port: int, delay: float) -> None:
        self.target_port = target_port
        self.delay = delay
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        """Listen on a free loopback port."""
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and cut every connection."""
        if self._server is not None:
            self._server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await asyncio.sleep(self.delay)  # the client waits for PostgreSQL's first answer
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
            try:
                await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
            finally:
                up_writer.transport.abort()
        finally:
            writer.transport.abort()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    writer.transport.abort()


@pytest.fixture
async def slow_dsn(
    postgres_server: EmbeddedPostgres, database: Database
) -> AsyncIterator[Callable[[float], Awaitable[str]]]:
    """A DSN of the test's schema through a proxy that delays each connection."""
    proxies: list[SlowAcceptProxy] = []

    async def through(delay: float) -> str:
        proxy = SlowAcceptProxy(postgres_server.port, delay)
        await proxy.start()
        proxies.append(proxy)
        dsn = database.dsn.replace(f":{postgres_server.port}/", f":{proxy.port}/")
        assert dsn != database.dsn
        return dsn

    yield through
    for proxy in proxies:
        await proxy.stop()


async def test_a_connect_slower_than_timeout_ms_but_within_connect_timeout_ms_succeeds(
    slow_dsn: Callable[[float], Awaitable[str]], started: Start
) -> None:
    dsn = await slow_dsn(0.5)
    handler = await started(DbHandler(), dsn=dsn, timeout_ms=100, connect_timeout_ms=10_000)
    assert (await handler.health_check())["healthy"] is True
    result = await handler.execute(command("db.query", {"sql": "SELECT 1 AS one"}))
    assert result is not None and result["rows"] == [{"one": 1}]


async def test_a_connect_slower_than_connect_timeout_ms_is_a_handler_timeout(
    slow_dsn: Callable[[float], Awaitable[str]],
) -> None:
    dsn = await slow_dsn(5.0)
    began = time.monotonic()
    with pytest.raises(HandlerTimeoutError):
        await DbHandler().initialize({"dsn": dsn, "timeout_ms": 30_000, "connect_timeout_ms": 200})
    assert time.monotonic() - began < 4.0
