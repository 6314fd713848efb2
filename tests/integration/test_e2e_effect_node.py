"""End to end: an effect node's http and db operations through the host on memory://."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from onex_stream.core.envelope import ModelOnexEnvelope
from tests.support import postgres
from tests.support.deterministic import DeterministicClock, DeterministicIds
from tests.support.hosts import RunningHost, running_host
from tests.support.postgres import EmbeddedPostgres

postgres_server = postgres.postgres_server  # the session's PostgreSQL (tests/support/postgres.py)

RUNTIME = """\
schema_version: "1.0.0"
runtime:
  name: "effects_host"
  event_bus:
    kind: "inmemory"
    config:
      topics: {input: "onex.test.users.cmd.v1"}
  handlers:
    - type: "http"
      config: {allowed_hosts: ["127.0.0.1"], max_redirects: 2}
    - type: "db"
      config: {dsn: "${DATABASE_URL}", max_rows: 100}
  nodes:
    - slug: "user_service_effect"
"""
NODE = """\
schema_version: "1.0.0"
name: "user_service_effect"
node_type: "EFFECT"
io_operations:
  - {type: http, operations: ["http.get"]}
  - {type: db, operations: ["db.query", "db.execute", "db.transaction"]}
"""


@pytest.fixture
async def users_api() -> AsyncIterator[str]:
    """A real HTTP server on loopback answering GET /users/{id}; its base URL."""

    async def user(request: web.Request) -> web.Response:
        return web.json_response({"id": int(request.match_info["id"]), "name": "Ada"})

    app = web.Application()
    app.router.add_get("/users/{id}", user)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(access_log=None)
    yield f"http://127.0.0.1:{server.port}"
    await server.close()


@pytest.fixture
async def database_url(postgres_server: EmbeddedPostgres) -> AsyncIterator[str]:
    """A DSN whose search_path is a fresh schema holding a ``users`` table."""
    schema = f"e2e_{uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_server.dsn)
    await admin.execute(f"CREATE SCHEMA {schema}")
    await admin.execute(f"CREATE TABLE {schema}.users (id int PRIMARY KEY, name text)")
    yield f"{postgres_server.dsn}?search_path={schema}"
    await admin.execute(f"DROP SCHEMA {schema} CASCADE")
    await admin.close()


@pytest.fixture
async def running(
    tmp_path: Path, database_url: str, ids: DeterministicIds, clock: DeterministicClock
) -> AsyncIterator[RunningHost]:
    (tmp_path / "runtime").mkdir()
    (tmp_path / "nodes").mkdir()
    (tmp_path / "nodes" / "user_service_effect.yaml").write_text(NODE)
    contract = tmp_path / "runtime" / "host.yaml"
    contract.write_text(RUNTIME)
    env = {"ONEX_ENV": "test", "DATABASE_URL": database_url}
    async with running_host(contract, ids=ids, clock=clock, env=env) as host:
        yield host


def command(n: int, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "envelope_id": str(UUID(int=n)),
        "correlation_id": str(UUID(int=10_000 + n)),
        "source_node": "client",
        "target_node": "user_service_effect",
        "handler_type": operation.partition(".")[0],
        "operation": operation,
        "timestamp": "2024-01-01T00:00:00Z",
        "payload": payload,
    }


async def answers(running: RunningHost, *commands: dict[str, Any]) -> list[ModelOnexEnvelope]:
    """Send ``commands`` one by one (each after the previous answer); their responses."""
    responses: list[ModelOnexEnvelope] = []
    for sent, request in enumerate(commands, start=1):
        running.send(request, key=b"user-42")
        responses = await running.responses(sent)
    by_cause = {response.causation_id: response for response in responses}
    return [by_cause[UUID(request["envelope_id"])] for request in commands]


async def test_http_and_db_operations_answer_from_the_real_servers(
    running: RunningHost, users_api: str
) -> None:
    insert = {"sql": "INSERT INTO users VALUES ($1, $2)", "parameters": [42, "Ada"]}
    statements = [
        {"sql": "UPDATE users SET name = $1 WHERE id = $2", "parameters": ["Ada L.", 42]},
        {"sql": "INSERT INTO users VALUES ($1, $2)", "parameters": [43, "Bob"]},
    ]
    fetched, inserted, transacted, queried = await answers(
        running,
        command(1, "http.get", {"url": f"{users_api}/users/42"}),
        command(2, "db.execute", insert),
        command(3, "db.transaction", {"statements": statements}),
        command(4, "db.query", {"sql": "SELECT id, name FROM users ORDER BY id"}),
    )
    for n, response in enumerate((fetched, inserted, transacted, queried), start=1):
        assert (response.success, response.correlation_id) == (True, UUID(int=10_000 + n))
    assert fetched.payload is not None
    assert (fetched.payload["status_code"], fetched.payload["body"]) == (
        200,
        {"id": 42, "name": "Ada"},
    )
    assert inserted.payload == {"status": "INSERT 0 1", "row_count": 1}
    assert transacted.payload is not None and transacted.payload["row_count"] == 2
    assert queried.payload == {
        "rows": [{"id": 42, "name": "Ada L."}, {"id": 43, "name": "Bob"}],
        "row_count": 2,
        "truncated": False,
    }


async def test_failures_come_back_as_error_envelopes(running: RunningHost, users_api: str) -> None:
    undeclared, refused, failed, mismatched = await answers(
        running,
        command(5, "http.post", {"url": f"{users_api}/users/42"}),
        command(6, "http.get", {"url": users_api.replace("127.0.0.1", "127.0.0.2")}),
        command(7, "db.query", {"sql": "SELECT * FROM missing"}),
        command(8, "db.query", {"sql": "SELECT $1::int", "parameters": []}),
    )
    codes = [r.error.code if r.error else None for r in (undeclared, refused, failed, mismatched)]
    assert codes == [
        "OPERATION_NOT_ALLOWED",  # the node does not declare http.post
        "OPERATION_NOT_ALLOWED",  # the handler's host policy: loopback, not the allowed one
        "HANDLER_EXECUTION_ERROR",
        "INVALID_OPERATION",
    ]
    assert failed.error is not None and failed.error.details is not None
    assert failed.error.details["sqlstate"] == "42P01"
