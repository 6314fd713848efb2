"""The session's secret canary planted where secrets flow through a running host.

The canary (tests/support/canary.py) is the password of a PostgreSQL role, resolved from an
``env:`` and from a ``vault:`` reference by a host whose vault token is the canary-holding
OpenBao root token; it is the password of a db connection that fails at start, and of a
DSN that fails in the db handler. The session watch searches every log line, memory://
record (responses, dead letters) and /metrics output for it; these tests also check the
answers and errors they see directly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from onex_stream.bootstrap import build_host
from onex_stream.core.errors import HostStartError, RuntimeHostError, cannot_start
from onex_stream.infra.handlers.db import DbHandler
from tests.support import openbao, postgres
from tests.support.contracts import write_contract
from tests.support.deterministic import DeterministicClock, DeterministicIds
from tests.support.hosts import running_host
from tests.support.openbao import OpenBao
from tests.support.postgres import EmbeddedPostgres

openbao_server = openbao.openbao_server  # the session's OpenBao (its root token holds the canary)
postgres_server = postgres.postgres_server  # the session's PostgreSQL

NODE = """\
schema_version: "2.0.0"
name: "canary_effect"
node_type: "EFFECT"
io_operations:
  - {type: db, operations: ["db.query"]}
"""
RUNTIME = """\
schema_version: "2.0.0"
runtime:
  name: "canary_host"
  event_bus:
    kind: "inmemory"
    config:
      topics: {input: "onex.test.canary.cmd.v1"}
  handlers:
    - type: "vault"
      config: {address: "${VAULT_ADDR}", token_ref: "env:VAULT_TOKEN"}
    - type: "db"
      config:
        host: "127.0.0.1"
        port: ${PGPORT}
        user: "USER"
        database: "postgres"
        password_ref: "REFERENCE"
  nodes:
    - slug: "canary_effect"
"""


def contract(tmp_path: Path, user: str, reference: str) -> Path:
    """A runtime contract (vault + db as ``user`` with ``reference``); its path."""
    runtime = RUNTIME.replace("USER", user).replace("REFERENCE", reference)
    return write_contract(tmp_path, runtime, {"canary_effect": NODE})


def command(n: int, sql: str) -> dict[str, Any]:
    """A db.query command (it carries no secret: a dead letter carries its command)."""
    return {
        "envelope_id": str(UUID(int=n)),
        "correlation_id": str(UUID(int=20_000 + n)),
        "source_node": "client",
        "target_node": "canary_effect",
        "handler_type": "db",
        "operation": "db.query",
        "timestamp": "2024-01-01T00:00:00Z",
        "payload": {"sql": sql},
    }


@pytest.fixture
async def canary_role(postgres_server: EmbeddedPostgres, canary_secret: str) -> AsyncIterator[str]:
    """A login role whose password is the canary; its name."""
    name = f"canary_{uuid4().hex[:10]}"
    admin = await asyncpg.connect(postgres_server.dsn)
    try:
        await admin.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{canary_secret}'")
        yield name
        await admin.execute(f"DROP ROLE {name}")
    finally:
        await admin.close()


@pytest.fixture
def env(
    openbao_server: OpenBao, postgres_server: EmbeddedPostgres, canary_secret: str
) -> dict[str, str]:
    """The host's environment: OpenBao (root token), PostgreSQL, the canary password."""
    return {
        "ONEX_ENV": "test",
        "VAULT_ADDR": openbao_server.address,
        "VAULT_TOKEN": openbao_server.root_token,
        "PGPORT": str(postgres_server.port),
        "ONEX_CANARY_PG_PASSWORD": canary_secret,
    }


@pytest.mark.parametrize("source", ["env", "vault"])
async def test_a_db_password_from_a_reference_opens_the_database_and_never_comes_out(
    tmp_path: Path,
    env: dict[str, str],
    openbao_server: OpenBao,
    canary_role: str,
    canary_secret: str,
    source: str,
    ids: DeterministicIds,
    clock: DeterministicClock,
) -> None:
    folder = f"canary{uuid4().hex[:10]}"
    openbao_server.api("POST", f"secret/data/{folder}/db", {"data": {"password": canary_secret}})
    reference = {"env": "env:ONEX_CANARY_PG_PASSWORD", "vault": f"vault:{folder}/db#password"}
    path = contract(tmp_path, canary_role, reference[source])
    async with running_host(path, ids=ids, clock=clock, env=env) as host:
        host.send(command(1, "SELECT current_user AS who"), key=b"k")
        host.send(command(2, "SELECT * FROM no_such_table"), key=b"k")
        responses = await host.responses(2)
        records = host.records("event") + host.records("dead_letter")
    by_cause = {response.causation_id: response for response in responses}
    answered, failed = by_cause[UUID(int=1)], by_cause[UUID(int=2)]
    assert answered.success, answered.error
    assert answered.payload is not None and answered.payload["rows"] == [{"who": canary_role}]
    assert not failed.success
    assert not any(canary_secret.encode() in (r.value or b"") for r in records)


async def test_a_wrong_db_password_stops_the_start_without_showing_it(
    tmp_path: Path, env: dict[str, str], canary_secret: str
) -> None:
    path = contract(tmp_path, "postgres", "env:ONEX_CANARY_PG_PASSWORD")
    host = build_host(path, env=env, logs="as-is")
    try:
        with pytest.raises(HostStartError) as raised:
            await host.start()
    finally:
        await host.runtime.shutdown()
    line = cannot_start(raised.value)
    assert "the db handler failed to initialize" in line
    assert canary_secret not in line + str(raised.value.context())


async def test_a_failing_dsn_logs_its_failure_without_its_password(
    postgres_server: EmbeddedPostgres, canary_secret: str
) -> None:
    handler = DbHandler()
    dsn = f"postgresql://postgres:{canary_secret}@127.0.0.1:{postgres_server.port}/postgres"
    with pytest.raises(RuntimeHostError) as raised:
        await handler.initialize({"dsn": dsn})  # logged by the handler's error path
    await handler.shutdown()
    assert raised.value.handler_type == "db"
    assert canary_secret not in str(raised.value.context())
