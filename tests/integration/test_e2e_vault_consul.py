"""End to end on memory://: vault and consul operations, and vault: references at start."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from onex_stream.bootstrap import build_host
from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.errors import HostStartError, cannot_start
from onex_stream.core.secret_refs import parse_secret_ref
from onex_stream.infra.handlers.vault import VaultHandler
from tests.support import consul_fake, openbao, postgres, rotation
from tests.support.consul_fake import FakeConsul
from tests.support.contracts import write_contract
from tests.support.deterministic import DeterministicClock, DeterministicIds
from tests.support.hosts import running_host
from tests.support.openbao import OpenBao
from tests.support.postgres import PASSWORD, EmbeddedPostgres
from tests.support.rotation import FakeClock, Role, password

openbao_server = openbao.openbao_server  # the session's OpenBao (tests/support/openbao.py)
postgres_server = postgres.postgres_server  # the session's PostgreSQL
fake_consul = consul_fake.fake_consul  # a fake Consul agent per test
pg_role = rotation.pg_role  # a PostgreSQL login role per test

NODE = """\
schema_version: "2.0.0"
name: "registry_effect"
node_type: "EFFECT"
io_operations:
  - {type: vault, operations: ["vault.get_secret", "vault.set_secret", "vault.list_secrets"]}
  - {type: consul, operations: ["consul.register_service", "consul.get_service"]}
  - {type: db, operations: ["db.query"]}
"""
HEAD = """\
schema_version: "2.0.0"
runtime:
  name: "secrets_host"
  event_bus:
    kind: "inmemory"
    config:
      topics: {input: "onex.test.secrets.cmd.v1"}
  handlers:
    - type: "vault"
      config: {address: "${VAULT_ADDR}", token_ref: "env:VAULT_TOKEN"}
"""
CONSUL = """\
    - type: "consul"
      config: {address: "${CONSUL_ADDR}", token_ref: "env:CONSUL_TOKEN", datacenter: "dc1"}
"""
DB = """\
    - type: "db"
      config:
        host: "127.0.0.1"
        port: ${PGPORT}
        user: "postgres"
        database: "postgres"
        password_ref: "PASSWORD_REF"
"""
NODES = """\
  nodes:
    - slug: "registry_effect"
"""


def contract(tmp_path: Path, handlers: str) -> Path:
    """A runtime contract (vault + ``handlers``) beside the node contract; its path."""
    return write_contract(tmp_path, HEAD + handlers + NODES, {"registry_effect": NODE})


def command(n: int, operation: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A command for the registry node."""
    return {
        "envelope_id": str(UUID(int=n)),
        "correlation_id": str(UUID(int=10_000 + n)),
        "source_node": "client",
        "target_node": "registry_effect",
        "handler_type": operation.partition(".")[0],
        "operation": operation,
        "timestamp": "2024-01-01T00:00:00Z",
        "payload": payload,
    }


@pytest.fixture
def env(openbao_server: OpenBao, postgres_server: EmbeddedPostgres) -> dict[str, str]:
    """The host's environment: OpenBao's address and token, PostgreSQL's port."""
    return {
        "ONEX_ENV": "test",
        "VAULT_ADDR": openbao_server.address,
        "VAULT_TOKEN": openbao_server.root_token,
        "PGPORT": str(postgres_server.port),
    }


@pytest.fixture
def folder(openbao_server: OpenBao) -> str:
    """A fresh KV folder holding ``db`` = {password: PostgreSQL's password}."""
    name = f"e2e{uuid4().hex[:10]}"
    openbao_server.api("POST", f"secret/data/{name}/db", {"data": {"password": PASSWORD}})
    return name


async def test_vault_and_consul_operations_answer_through_the_host(
    tmp_path: Path,
    env: dict[str, str],
    fake_consul: FakeConsul,
    folder: str,
    ids: DeterministicIds,
    clock: DeterministicClock,
) -> None:
    path = contract(tmp_path, CONSUL)
    env = {**env, "CONSUL_ADDR": fake_consul.address, "CONSUL_TOKEN": "consul-acl-1"}
    requests = [
        command(1, "vault.set_secret", {"path": f"{folder}/api", "data": {"key": "k-1"}}),
        command(2, "vault.get_secret", {"path": f"{folder}/api", "key": "key"}),
        command(3, "vault.get_secret", {"path": f"{folder}/missing"}),
        command(4, "consul.register_service", {"name": "orders", "service_id": "o-1", "port": 80}),
        command(5, "consul.get_service", {"name": "orders"}),
    ]
    async with running_host(path, ids=ids, clock=clock, env=env) as host:
        for sent, request in enumerate(requests, start=1):
            host.send(request, key=b"k")
            responses = await host.responses(sent)
    by_cause = {response.causation_id: response for response in responses}
    written, read, missing, registered, found = (by_cause[UUID(r["envelope_id"])] for r in requests)
    assert all(r.success for r in (written, read, missing, registered, found))
    assert written.payload is not None and written.payload["metadata"]["version"] == 1
    assert read.payload is not None and read.payload["value"] == "k-1"
    assert missing.payload is not None and missing.payload["found"] is False
    assert registered.payload == {"service_id": "o-1"}
    assert found.payload is not None
    assert [i["service_id"] for i in found.payload["instances"]] == ["o-1"]
    assert fake_consul.services["o-1"]["Port"] == 80
    assert fake_consul.seen[0].headers["X-Consul-Token"] == "consul-acl-1"


async def test_db_password_from_a_vault_reference_opens_the_scram_protected_database(
    tmp_path: Path,
    env: dict[str, str],
    folder: str,
    ids: DeterministicIds,
    clock: DeterministicClock,
) -> None:
    path = contract(tmp_path, DB.replace("PASSWORD_REF", f"vault:{folder}/db#password"))
    async with running_host(path, ids=ids, clock=clock, env=env) as host:
        host.send(command(1, "db.query", {"sql": "SELECT current_user AS who"}), key=b"k")
        (response,) = await host.responses(1)
    assert response.success, response.error
    assert response.payload is not None and response.payload["rows"] == [{"who": "postgres"}]


def clocked_vault(ttl_clock: FakeClock) -> type[VaultHandler]:
    """The vault handler class with its secret cache on ``ttl_clock``."""

    class ClockedVault(VaultHandler):
        def __init__(self) -> None:
            super().__init__(clock=ttl_clock)

    return ClockedVault


def rotation_contract(tmp_path: Path, folder: str, role: Role) -> Path:
    """Vault (secrets kept 60 s) and a one-connection db pool logging in as ``role``."""
    head = HEAD.replace('"env:VAULT_TOKEN"}', '"env:VAULT_TOKEN", secret_ttl_seconds: 60}')
    db = DB.replace("PASSWORD_REF", f"vault:{folder}/rot#password")
    db = db.replace('user: "postgres"', f'user: "{role.name}"\n        pool_size: 1')
    return write_contract(tmp_path, head + db + NODES, {"registry_effect": NODE})


@pytest.mark.parametrize("ttl_passed", [True, False], ids=["after-the-ttl", "on-refusal"])
async def test_a_password_rotated_in_postgres_and_openbao_reaches_new_connections_live(
    tmp_path: Path,
    env: dict[str, str],
    folder: str,
    openbao_server: OpenBao,
    pg_role: Role,
    ids: DeterministicIds,
    clock: DeterministicClock,
    caplog: pytest.LogCaptureFixture,
    ttl_passed: bool,
) -> None:
    ttl_clock = FakeClock()
    openbao_server.api(
        "POST", f"secret/data/{folder}/rot", {"data": {"password": pg_role.password}}
    )
    path = rotation_contract(tmp_path, folder, pg_role)
    who = {"sql": "SELECT current_user AS who"}
    vault = {EnumHandlerType.VAULT: clocked_vault(ttl_clock)}
    caplog.set_level(logging.WARNING)
    async with running_host(path, ids=ids, clock=clock, env=env, extra_handlers=vault) as host:
        host.send(command(1, "db.query", who), key=b"k")
        await host.responses(1)
        await pg_role.rotate(password("pg2"))
        secret = {"data": {"password": pg_role.password}}
        openbao_server.api("POST", f"secret/data/{folder}/rot", secret)
        host.send(command(2, "db.query", who), key=b"k")  # the open connection keeps working
        await host.responses(2)
        if ttl_passed:
            ttl_clock.advance(60)
        assert await pg_role.end_sessions() == 1  # the next query opens a new connection
        host.send(command(3, "db.query", who), key=b"k")
        responses = await host.responses(3)
    assert [r.success for r in responses] == [True, True, True], responses[-1].error
    assert all(r.payload == {"rows": [{"who": pg_role.name}], "row_count": 1,
                             "truncated": False} for r in responses)  # fmt: skip
    refused = "refused the password from vault:" in caplog.text
    assert refused is not ttl_passed  # re-read for the TTL, or at once after the refusal


@pytest.mark.parametrize(
    ("reference", "reason"),
    [
        ("{folder}/db#user", "no key 'user' in the secret"),
        ("{folder}/nowhere#password", "no secret"),
    ],
)
async def test_a_wrong_vault_reference_stops_the_start_with_one_line_naming_it(
    tmp_path: Path, env: dict[str, str], folder: str, reference: str, reason: str
) -> None:
    ref = "vault:" + reference.format(folder=folder)
    path = contract(tmp_path, DB.replace("PASSWORD_REF", ref))
    host = build_host(path, env=env, logs="as-is")
    try:
        with pytest.raises(HostStartError) as raised:
            await host.start()
    finally:
        await host.runtime.shutdown()
    line = cannot_start(raised.value)
    assert raised.value.code == "SECRET_RESOLUTION_ERROR"
    assert line.startswith(f"cannot start: {path}:")
    assert "the db handler failed to initialize: password_ref: " + ref in line
    assert reason in line
    assert "\n" not in line
    assert PASSWORD not in line


async def test_a_vault_reference_without_a_vault_handler_stops_the_start(
    tmp_path: Path, env: dict[str, str], folder: str
) -> None:
    path = contract(tmp_path, DB.replace("PASSWORD_REF", f"vault:{folder}/db#password"))
    path.write_text(
        path.read_text().replace(
            '    - type: "vault"\n      config: {address: '
            '"${VAULT_ADDR}", token_ref: "env:VAULT_TOKEN"}\n',
            "",
        )
    )
    host = build_host(path, env=env, logs="as-is")
    with pytest.raises(HostStartError, match=r"need a vault handler") as raised:
        await host.start()
    await host.runtime.shutdown()
    assert raised.value.code == "SECRET_RESOLUTION_ERROR"


async def test_resolved_references_are_cached_by_the_vault_handler_within_their_ttl(
    openbao_server: OpenBao, folder: str
) -> None:
    handler = VaultHandler()
    await handler.initialize(
        {"address": openbao_server.address, "token": openbao_server.root_token}
    )
    try:
        ref = parse_secret_ref(f"vault:{folder}/db#password")
        assert await handler.read_reference(ref) == PASSWORD
        openbao_server.api("DELETE", f"secret/metadata/{folder}/db")
        assert await handler.read_reference(ref) == PASSWORD
    finally:
        await handler.shutdown()


def test_orders_host_contract_gets_past_handler_registration() -> None:
    contract_path = Path(__file__).parents[2] / "contracts" / "runtime" / "orders_host.yaml"
    host = build_host(contract_path, env={"ONEX_ENV": "test", "VAULT_TOKEN": "t"}, logs="as-is")
    assert {t.value for t in host.runtime.handlers} == {"http", "db", "vault", "consul"}
