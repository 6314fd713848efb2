"""End to end on memory://: vault and consul operations, and vault: references at start."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest

from onex_stream.bootstrap import build_host
from onex_stream.core.errors import HostStartError, cannot_start
from onex_stream.core.secret_refs import parse_secret_ref
from onex_stream.infra.handlers.vault import VaultHandler
from tests.support import consul_fake, openbao, postgres
from tests.support.consul_fake import FakeConsul
from tests.support.contracts import write_contract
from tests.support.deterministic import DeterministicClock, DeterministicIds
from tests.support.hosts import running_host
from tests.support.openbao import OpenBao
from tests.support.postgres import PASSWORD, EmbeddedPostgres

openbao_server = openbao.openbao_server  # the session's OpenBao (tests/support/openbao.py)
postgres_server = postgres.postgres_server  # the session's PostgreSQL
fake_consul = consul_fake.fake_consul  # a fake Consul agent per test

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


async def test_resolved_references_are_cached_by_the_vault_handler(
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
