"""When the server ends a session under a transaction, the rollback then fails too; the
db handler reports the error that ended the operation, not the rollback's (real
PostgreSQL). Seen in CI: asyncpg's InternalClientError, hidden behind the rollback's
InterfaceError, made a retryable loss a final HANDLER_EXECUTION_ERROR."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from onex_stream.infra.handlers import db as db_module
from onex_stream.infra.handlers.policies.transient import transient_error
from tests.infra.handlers.conftest import Database

ENDED_UNDER_AN_OPERATION = [
    (asyncpg.AdminShutdownError("terminating connection"), {"sqlstate": "57P01"}),
    (asyncpg.ConnectionDoesNotExistError("closed in the middle"), {"sqlstate": "08003"}),
    (asyncpg.InternalClientError("cannot switch to state 15"), {}),
]


async def closed_by_the_server(database: Database) -> asyncpg.Connection[asyncpg.Record]:
    """A connection whose session the server ended (pg_terminate_backend), known closed."""
    connection = await asyncpg.connect(database.dsn)
    await database.admin.execute("SELECT pg_terminate_backend($1)", connection.get_server_pid())
    async with asyncio.timeout(5):
        while not connection.is_closed():  # noqa: ASYNC110 -- the loss arrives from the server
            await asyncio.sleep(0.005)
    return connection


@pytest.mark.parametrize(("ended", "sqlstate"), ENDED_UNDER_AN_OPERATION)
async def test_a_rollback_failing_after_a_lost_session_reports_the_loss_and_may_be_retried(
    database: Database, ended: Exception, sqlstate: dict[str, str]
) -> None:
    connection = await closed_by_the_server(database)
    try:
        raise ended
    except Exception:
        with pytest.raises(asyncpg.InterfaceError) as raised:
            await connection.execute("ROLLBACK")  # the transaction's cleanup, refused
    assert raised.value.__context__ is ended
    error = db_module._translated(raised.value)
    assert error.details == {**sqlstate, "error": type(ended).__name__}
    assert transient_error(error)


async def test_an_interface_error_of_its_own_stays_a_final_error(database: Database) -> None:
    connection = await asyncpg.connect(database.dsn)
    try:
        with pytest.raises(asyncpg.InterfaceError) as raised:
            await connection.fetchval("SELECT $1::int")  # a parameter missing
    finally:
        await connection.close()
    error = db_module._translated(raised.value)
    assert error.details == {"error": "InterfaceError"}
    assert not transient_error(error)
