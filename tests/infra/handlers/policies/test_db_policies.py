"""The retry policy around a real DbHandler on embedded PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from onex_stream.core.contracts.handler_binding import ModelHandlerBindingConfig
from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.errors import HandlerExecutionError
from onex_stream.core.ports import HandlerPort, HandlerResult
from onex_stream.infra.handlers.db import DbHandler
from onex_stream.infra.handlers.decorator import HandlerDecorator
from onex_stream.infra.handlers.policies import with_policies
from tests.infra.handlers.conftest import Database, command

APP = "onex_policy_test"
BINDING = ModelHandlerBindingConfig.model_validate(
    {
        "type": "db",
        "config": {"retry_policy": {"max_retries": 2, "base_delay_ms": 1, "max_delay_ms": 5}},
    }
)


class Attempts(HandlerDecorator):
    """Counts the attempts that reach the handler; runs ``before`` ahead of the first."""

    def __init__(self, inner: HandlerPort, before: Callable[[], Awaitable[None]] | None) -> None:
        super().__init__(inner)
        self.count, self._before = 0, before

    async def execute(self, envelope: ModelOnexEnvelope) -> HandlerResult:
        self.count += 1
        if self.count == 1 and self._before is not None:
            await self._before()
        return await self.inner.execute(envelope)


async def policed(
    started: Callable[..., Awaitable[Any]],
    database: Database,
    before: Callable[[], Awaitable[None]] | None = None,
) -> tuple[HandlerPort, Attempts]:
    attempts = Attempts(DbHandler(), before)
    handler = with_policies(attempts, BINDING)
    await started(handler, dsn=f"{database.dsn}&application_name={APP}", pool_size=1)
    return handler, attempts


async def test_a_syntax_error_is_not_retried(
    started: Callable[..., Awaitable[Any]], database: Database
) -> None:
    handler, attempts = await policed(started, database)
    with pytest.raises(HandlerExecutionError) as raised:
        await handler.execute(command("db.query", {"sql": "SELEC 1"}))
    assert raised.value.details["sqlstate"] == "42601"
    assert raised.value.details["attempts"] == 1
    assert attempts.count == 1


async def test_a_connection_lost_mid_query_is_retried_on_a_new_one(
    started: Callable[..., Awaitable[Any]], database: Database
) -> None:
    killer: list[asyncio.Task[None]] = []

    async def terminate_once_running() -> None:
        async def terminate() -> None:
            sql = (
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = $1 AND query LIKE 'SELECT pg_sleep%'"
            )
            while not await database.admin.fetchval(sql, APP):  # noqa: ASYNC110 -- polling the server
                await asyncio.sleep(0.005)

        killer.append(asyncio.create_task(terminate()))

    handler, attempts = await policed(started, database, terminate_once_running)
    sql = "SELECT pg_sleep(0.05)::text AS slept"
    result = await handler.execute(command("db.query", {"sql": sql}))
    assert result == {"rows": [{"slept": ""}], "row_count": 1, "truncated": False}
    assert attempts.count == 2
    await killer[0]


async def test_a_serialization_failure_is_retried(
    started: Callable[..., Awaitable[Any]], database: Database
) -> None:
    handler, attempts = await policed(started, database)
    await database.admin.execute("CREATE SEQUENCE tries")  # sequences ignore rollbacks
    sql = (
        "DO $$ BEGIN IF nextval('tries') = 1 THEN "
        "RAISE EXCEPTION 'planted' USING ERRCODE = 'serialization_failure'; END IF; END $$"
    )
    result = await handler.execute(command("db.execute", {"sql": sql}))
    assert result["status"] == "DO"
    assert attempts.count == 2
