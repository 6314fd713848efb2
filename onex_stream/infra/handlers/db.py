"""DbHandler: db.* operations on an asyncpg pool; parameterized SQL only, JSON-safe rows."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, time
from typing import Any, ClassVar, TypeAlias

import asyncpg
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from onex_stream.core import errors
from onex_stream.core.contracts.handler_binding import HandlerSettings
from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.ports import HandlerResult
from onex_stream.core.secret_refs import check_secret_ref
from onex_stream.infra.handlers import common
from onex_stream.infra.handlers.db_rotation import rotating_connect
from onex_stream.infra.handlers.sql_shape import sql_shape
from onex_stream.infra.secret_cache import RotatingSecret
from onex_stream.spi import ProtocolHandler

logger = logging.getLogger(__name__)

Connection: TypeAlias = "asyncpg.pool.PoolConnectionProxy[asyncpg.Record]"
HEALTH_TIMEOUT_S = 2.0
_DRIVER_ERRORS = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError)


class DbSettings(HandlerSettings):
    """The db handler's config: the shared keys, ``dsn`` or host/port/database/user/password.

    A contract gives ``password_ref``; the host resolves it into ``password``
    (``SecretResolver.resolve_config``) before ``initialize``, so the handler never
    reads the environment and refuses a ``password_ref`` that reaches it. A ``vault:``
    password arrives as a ``RotatingSecret``: each new connection takes its current value.
    """

    # each connection is a PostgreSQL server process: a small pool per host by default
    pool_size: int = Field(default=5, ge=1)
    dsn: SecretStr | None = None
    host: str | None = None
    port: int = Field(default=5432, ge=1, le=65535)
    database: str | None = None
    user: str | None = None
    password: SecretStr | RotatingSecret | None = None
    password_ref: str | None = None
    statement_timeout_ms: int | None = Field(default=None, ge=1)
    max_rows: int = Field(default=10_000, ge=1)

    @field_validator("password_ref")
    @classmethod
    def _resolved_by_the_host(cls, value: str | None) -> str | None:
        if check_secret_ref(value) is not None:  # malformed: ValueError showing the forms
            raise ValueError(
                "unresolved: the host resolves password_ref into password before the "
                "handler starts (SecretResolver.resolve_config)"
            )
        return value

    @model_validator(mode="after")
    def _one_target(self) -> DbSettings:
        if (self.dsn is None) == (self.host is None):
            raise ValueError("give either dsn or host (with port, database, user, password)")
        return self

    def pool_args(self) -> dict[str, Any]:
        """``asyncpg.create_pool`` arguments (the only place the password is revealed)."""
        timeout = self.statement_timeout_ms
        server = {"statement_timeout": str(timeout)} if timeout else {}
        connect = self.connect_timeout_ms / 1000  # opening one connection; calls use timeout_ms
        args: dict[str, Any] = {"min_size": 1, "max_size": self.pool_size, "timeout": connect}
        args["server_settings"] = server
        if self.dsn is not None:
            return {**args, "dsn": self.dsn.get_secret_value()}
        password = self.password
        if isinstance(password, RotatingSecret):  # called by asyncpg for each connection
            args["connect"] = rotating_connect(password)
        target = {
            "host": self.host,
            "port": self.port,
            "database": self.database,
            "user": self.user,
        }
        value = password.get_secret_value() if isinstance(password, SecretStr) else password
        return {**args, **target, "password": value}


class Statement(BaseModel):
    """One SQL statement; ``parameters`` are bound to $1..$n, never interpolated."""

    model_config = ConfigDict(extra="forbid")

    sql: str = Field(min_length=1)
    parameters: list[Any] = Field(default_factory=list)


class Transaction(BaseModel):
    """The payload of db.transaction: statements run in order, all or nothing."""

    model_config = ConfigDict(extra="forbid")

    statements: list[Statement] = Field(min_length=1)


class DbHandler(ProtocolHandler):
    """db.query, db.execute and db.transaction on a PostgreSQL pool.

    db.query returns at most ``max_rows`` rows (read through a cursor, so no more are ever
    fetched) and sets ``truncated`` when there were more. A ``vault:`` password rotates
    (``rotating_secrets``): new connections read it again after the vault handler's
    ``secret_ttl_seconds``, and at once when PostgreSQL refuses it; open ones keep working.
    """

    supported_operations = frozenset({"db.query", "db.execute", "db.transaction"})
    bounds_own_calls = True  # every await of execute runs within timeout_ms
    #: config keys that, given as ``vault:`` references, arrive as ``RotatingSecret``
    rotating_secrets: ClassVar[frozenset[str]] = frozenset({"password"})

    def __init__(self) -> None:
        self._settings: DbSettings | None = None
        self._pool: asyncpg.Pool[asyncpg.Record] | None = None

    @property
    def handler_type(self) -> EnumHandlerType:
        """Always ``EnumHandlerType.DB``."""
        return EnumHandlerType.DB

    async def initialize(self, config: Mapping[str, Any]) -> None:
        """Validate the config and open the pool (one connection, within connect_timeout_ms)."""
        settings = self._settings = common.load_settings(DbSettings, config, self.handler_type)
        with self._mapped_errors(None):
            async with asyncio.timeout(settings.connect_timeout_ms / 1000):
                self._pool = await asyncpg.create_pool(**settings.pool_args())

    async def shutdown(self) -> None:
        """Close the pool."""
        if self._pool is not None:
            await self._pool.close()

    async def execute(self, envelope: ModelOnexEnvelope) -> HandlerResult:
        """Run the statement(s) of the envelope and return rows or command status."""
        operation = common.require_operation(envelope, self.supported_operations, self.handler_type)
        if operation == "db.transaction":
            statements = common.parse_payload(Transaction, envelope, self.handler_type).statements
        else:
            statements = [common.parse_payload(Statement, envelope, self.handler_type)]
        with self._mapped_errors(envelope):
            for index, statement in enumerate(statements):
                _check(statement, envelope, index if operation == "db.transaction" else None)
            pool, settings = self._ready()
            async with asyncio.timeout(settings.timeout_ms / 1000), pool.acquire() as connection:
                if operation == "db.query":
                    return await _query(connection, statements[0], settings.max_rows)
                if operation == "db.execute":
                    return await _execute(connection, statements[0])
                return await self._transaction(connection, statements, envelope)

    async def health_check(self) -> dict[str, Any]:
        """Runs ``SELECT 1`` within ``HEALTH_TIMEOUT_S``."""
        try:
            with self._mapped_errors(None):
                pool, _ = self._ready()
                async with asyncio.timeout(HEALTH_TIMEOUT_S):
                    await pool.fetchval("SELECT 1")
        except errors.RuntimeHostError as error:
            return {"healthy": False, "handler_type": "db", "error": error.code.value}
        return {"healthy": True, "handler_type": "db", "connections": pool.get_size()}

    def describe(self) -> dict[str, Any]:
        """Operations, payload fields, response shapes and how values are encoded."""
        return {
            "handler_type": self.handler_type.value,
            "supported_operations": sorted(self.supported_operations),
            "required_payload_fields": {
                "db.query": ["sql"],
                "db.execute": ["sql"],
                "db.transaction": ["statements: [{sql, parameters}]"],
            },
            "optional_payload_fields": ["parameters: a list bound to $1..$n"],
            "response_shape": {
                "db.query": {"rows": "[object]", "row_count": "int", "truncated": "bool"},
                "db.execute": {"status": "command tag, e.g. 'INSERT 0 1'", "row_count": "int"},
                "db.transaction": {"status": "COMMIT", "row_count": "int", "results": "[...]"},
            },
            "truncated": "true when more than max_rows rows matched; only max_rows are returned",
            "value_encoding": (
                "uuid, numeric: string; timestamp, date, time: ISO 8601 string; "
                "bytea: base64 string; other non-JSON types: their text form"
            ),
        }

    def _ready(self) -> tuple[asyncpg.Pool[asyncpg.Record], DbSettings]:
        if self._pool is None or self._settings is None or self._pool.is_closing():
            raise errors.HandlerExecutionError("the db handler is not initialized")
        return self._pool, self._settings

    async def _transaction(
        self, connection: Connection, statements: Sequence[Statement], envelope: ModelOnexEnvelope
    ) -> dict[str, Any]:
        results = []
        async with connection.transaction():
            for index, statement in enumerate(statements):
                with self._mapped_errors(envelope, statement_index=index):
                    results.append(await _execute(connection, statement))
        total = sum(result["row_count"] for result in results)
        return {"status": "COMMIT", "row_count": total, "results": results}

    @contextlib.contextmanager
    def _mapped_errors(self, envelope: ModelOnexEnvelope | None, **context: Any) -> Iterator[None]:
        """Translate driver, connection and timeout failures into ONEX errors."""
        try:
            yield
        except (errors.RuntimeHostError, TimeoutError, OSError, ValueError, *_DRIVER_ERRORS) as exc:
            error = exc if isinstance(exc, errors.RuntimeHostError) else _translated(exc)
            error.details = {**error.details, **context}
            raise common.failure(error, envelope, self.handler_type, logger) from None


def json_safe(value: Any) -> Any:
    """A JSON-compatible copy of a column value (see ``DbHandler.describe``)."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, list | tuple):
        return [json_safe(item) for item in value]
    if isinstance(value, dict | asyncpg.Record):
        return {str(key): json_safe(item) for key, item in value.items()}
    return str(value)  # UUID, Decimal (exact), intervals, network types...


def _check(statement: Statement, envelope: ModelOnexEnvelope, index: int | None) -> None:
    placeholders, suspicious = sql_shape(statement.sql)
    where = {} if index is None else {"statement_index": index}
    count = len(statement.parameters)
    if placeholders != set(range(1, count + 1)):
        used = ", ".join(f"${n}" for n in sorted(placeholders)) or "no placeholders"
        raise errors.InvalidOperationError(
            f"SQL uses {used} but {count} parameter(s) were given",
            details={"placeholders": sorted(placeholders), "parameters": count, **where},
        )
    if suspicious:  # the SQL text and parameter values are never logged
        where_text = f" statement {index}" if index is not None else ""
        message = f"suspicious SQL in {envelope.operation}{where_text}: {', '.join(suspicious)}"
        logger.warning("%s (correlation_id=%s)", message, envelope.correlation_id)


async def _query(connection: Connection, statement: Statement, max_rows: int) -> dict[str, Any]:
    async with connection.transaction():
        cursor = await connection.cursor(statement.sql, *statement.parameters)
        records = await cursor.fetch(max_rows + 1)
    rows = [json_safe(record) for record in records[:max_rows]]
    return {"rows": rows, "row_count": len(rows), "truncated": len(records) > max_rows}


async def _execute(connection: Connection, statement: Statement) -> dict[str, Any]:
    # a prepared statement: the server refuses stacked statements, even without parameters
    prepared = await connection.prepare(statement.sql)
    await prepared.fetch(*statement.parameters)
    status = prepared.get_statusmsg() or ""
    count = status.rsplit(" ", 1)[-1]
    return {"status": status, "row_count": int(count) if count.isdigit() else 0}


def _translated(exc: Exception) -> errors.RuntimeHostError:
    cause = exc.__context__
    if isinstance(exc, asyncpg.InterfaceError) and isinstance(cause, _DRIVER_ERRORS):
        exc = cause  # a cleanup (the rollback) failed after this error: it is the cause
    name = type(exc).__name__
    if isinstance(exc, TimeoutError | asyncpg.QueryCanceledError):
        return errors.HandlerTimeoutError(f"the database did not answer in time ({name})")
    if isinstance(exc, asyncpg.PostgresError):
        sqlstate = exc.sqlstate
        return errors.HandlerExecutionError(
            f"PostgreSQL error {sqlstate} ({name})", details={"sqlstate": sqlstate, "error": name}
        )
    return errors.HandlerExecutionError(f"database call failed ({name})", details={"error": name})
