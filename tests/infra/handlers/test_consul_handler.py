"""ConsulHandler against a fake Consul agent that checks paths, queries, headers and bodies."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from onex_stream.core.errors import (
    HandlerExecutionError,
    HandlerTimeoutError,
    InvalidOperationError,
    OperationNotAllowedError,
)
from onex_stream.infra.handlers.consul import ConsulHandler
from onex_stream.infra.secret_cache import SecretCache
from tests.infra.handlers.conftest import run
from tests.support import consul_fake
from tests.support.consul_fake import FakeConsul
from tests.support.rotation import FakeClock, SecretStore, rotating

fake_consul = consul_fake.fake_consul  # a fake agent per test (tests/support/consul_fake.py)
Start = Callable[..., Awaitable[Any]]


@pytest.fixture
async def consul(started: Start, fake_consul: FakeConsul) -> ConsulHandler:
    """A consul handler with the fake's ACL token and datacenter."""
    handler: ConsulHandler = await started(
        ConsulHandler(), address=fake_consul.address, token="consul-acl-1", datacenter="dc1"
    )
    return handler


async def test_register_sends_the_documented_body_with_the_token(
    consul: ConsulHandler, fake_consul: FakeConsul
) -> None:
    answer = await run(
        consul,
        "register_service",
        name="orders",
        service_id="orders-1",
        address="10.1.2.3",
        port=8080,
        tags=["v1"],
        meta={"team": "core"},
        check={
            "http": "http://10.1.2.3:8080/health",
            "interval": "10s",
            "timeout": "2s",
            "deregister_critical_service_after": "1m",
        },
    )
    assert answer == {"service_id": "orders-1"}
    (seen,) = fake_consul.seen
    assert (seen.method, seen.path, seen.query) == ("PUT", "/v1/agent/service/register", {})
    assert seen.headers["X-Consul-Token"] == "consul-acl-1"
    assert seen.body == {
        "ID": "orders-1",
        "Name": "orders",
        "Address": "10.1.2.3",
        "Port": 8080,
        "Tags": ["v1"],
        "Meta": {"team": "core"},
        "Check": {
            "HTTP": "http://10.1.2.3:8080/health",
            "Interval": "10s",
            "Timeout": "2s",
            "DeregisterCriticalServiceAfter": "1m",
        },
    }


async def test_register_without_id_generates_one_named_after_the_service(
    consul: ConsulHandler, fake_consul: FakeConsul
) -> None:
    answer = await run(
        consul, "register_service", name="users", check={"tcp": "h:1", "interval": "5s"}
    )
    assert answer["service_id"].startswith("users-")
    assert fake_consul.services[answer["service_id"]]["Check"] == {"TCP": "h:1", "Interval": "5s"}


async def test_get_service_returns_passing_instances_by_default(
    consul: ConsulHandler, fake_consul: FakeConsul
) -> None:
    check = {"http": "http://x/health", "interval": "10s"}
    await run(consul, "register_service", name="api", service_id="api-1", port=81, check=check)
    await run(
        consul, "register_service", name="api", service_id="api-2", port=82, tags=["b"], check=check
    )
    fake_consul.set_check("api-2", "passing")
    fake_consul.seen.clear()
    answer = await run(consul, "get_service", name="api")
    assert answer == {
        "instances": [
            {
                "service_id": "api-2",
                "address": "10.0.0.7",  # no service address: the node's
                "port": 82,
                "tags": ["b"],
                "meta": {},
                "node": "agent-one",
            }
        ]
    }
    (seen,) = fake_consul.seen
    assert (seen.method, seen.path) == ("GET", "/v1/health/service/api")
    assert seen.query == {"passing": "true", "dc": "dc1"}
    everything = await run(consul, "get_service", name="api", passing_only=False)
    assert [i["service_id"] for i in everything["instances"]] == ["api-1", "api-2"]
    assert fake_consul.seen[-1].query == {"dc": "dc1"}


async def test_list_services_returns_names_and_tags_from_the_catalog(
    consul: ConsulHandler, fake_consul: FakeConsul
) -> None:
    await run(consul, "register_service", name="api", tags=["v1", "edge"])
    answer = await run(consul, "list_services")
    assert answer == {"services": {"consul": [], "api": ["v1", "edge"]}}
    assert (fake_consul.seen[-1].path, fake_consul.seen[-1].query) == (
        "/v1/catalog/services",
        {"dc": "dc1"},
    )


async def test_health_check_service_reports_the_worst_check(
    consul: ConsulHandler, fake_consul: FakeConsul
) -> None:
    check = {"http": "http://x/health", "interval": "10s"}
    await run(consul, "register_service", name="db", service_id="db-1", check=check)
    await run(consul, "register_service", name="db", service_id="db-2", check=check)
    fake_consul.set_check("db-1", "passing", "HTTP GET: 200 OK")
    fake_consul.set_check("db-2", "warning", "slow")
    answer = await run(consul, "health_check_service", name="db")
    assert answer["status"] == "warning"
    assert {"service_id": "db-1", "status": "passing", "output": "HTTP GET: 200 OK"} in answer[
        "checks"
    ]
    assert fake_consul.seen[-1].path == "/v1/health/checks/db"
    fake_consul.set_check("db-2", "passing")
    assert (await run(consul, "health_check_service", name="db"))["status"] == "passing"
    assert (await run(consul, "health_check_service", name="none"))["status"] == "critical"


async def test_deregister_removes_the_service_and_unknown_ids_fail_with_404(
    consul: ConsulHandler, fake_consul: FakeConsul
) -> None:
    await run(consul, "register_service", name="api", service_id="api-1")
    assert (await run(consul, "deregister_service", service_id="api-1"))["deregistered"] is True
    assert fake_consul.seen[-1].method == "PUT"
    assert fake_consul.seen[-1].path == "/v1/agent/service/deregister/api-1"
    assert fake_consul.services == {}
    with pytest.raises(HandlerExecutionError) as raised:
        await run(consul, "deregister_service", service_id="api-1")
    assert raised.value.details == {"status_code": 404}


async def test_a_wrong_token_is_refused_with_403(started: Start, fake_consul: FakeConsul) -> None:
    handler: ConsulHandler = await started(
        ConsulHandler(), address=fake_consul.address, token="wrong-token-value"
    )
    with pytest.raises(OperationNotAllowedError) as raised:
        await run(handler, "list_services")
    assert raised.value.details == {"status_code": 403}
    assert "wrong-token-value" not in str(raised.value.context())
    assert fake_consul.seen[-1].headers["X-Consul-Token"] == "wrong-token-value"


async def test_a_rotating_token_is_sent_at_its_current_value_with_every_request(
    started: Start, fake_consul: FakeConsul
) -> None:
    clock, store = FakeClock(), SecretStore({"onex/consul": {"token": "consul-acl-1"}})
    token = rotating(SecretCache(store.read, ttl=60, clock=clock), "vault:onex/consul#token")
    handler: ConsulHandler = await started(
        ConsulHandler(), address=fake_consul.address, token=token
    )
    await run(handler, "register_service", name="orders", service_id="o-1")
    store.secrets["onex/consul"] = {"token": "consul-acl-2"}
    fake_consul.token = "consul-acl-2"  # Consul accepts the new token only
    clock.advance(60)
    await run(handler, "get_service", name="orders", passing_only=False)
    await run(handler, "list_services")
    await run(handler, "health_check_service", name="orders")
    await run(handler, "deregister_service", service_id="o-1")
    sent = [seen.headers["X-Consul-Token"] for seen in fake_consul.seen]
    assert sent == ["consul-acl-1", *["consul-acl-2"] * 4]
    assert len(store.reads) == 2


async def test_without_token_or_datacenter_neither_is_sent(
    started: Start, fake_consul: FakeConsul
) -> None:
    fake_consul.token = None
    handler: ConsulHandler = await started(ConsulHandler(), address=fake_consul.address)
    await run(handler, "list_services")
    assert "X-Consul-Token" not in fake_consul.seen[-1].headers
    assert fake_consul.seen[-1].query == {}


async def test_an_unknown_datacenter_is_an_execution_error(
    started: Start, fake_consul: FakeConsul
) -> None:
    handler: ConsulHandler = await started(
        ConsulHandler(), address=fake_consul.address, token="consul-acl-1", datacenter="mars"
    )
    with pytest.raises(HandlerExecutionError) as raised:
        await run(handler, "get_service", name="api")
    assert raised.value.details == {"status_code": 500}
    assert "No path to datacenter" in raised.value.message


@pytest.mark.parametrize(
    ("operation", "payload"),
    [
        ("register_service", {}),
        ("register_service", {"name": "a b"}),
        ("register_service", {"name": "a", "check": {"interval": "10s"}}),
        ("register_service", {"name": "a", "check": {"tcp": "h:1", "interval": "soon"}}),
        ("register_service", {"name": "a", "port": 70000}),
        ("deregister_service", {}),
        ("get_service", {"name": "a/../b"}),
        ("list_services", {"extra": 1}),
    ],
)
async def test_malformed_payloads_are_invalid_operations_and_send_nothing(
    consul: ConsulHandler, fake_consul: FakeConsul, operation: str, payload: dict[str, Any]
) -> None:
    with pytest.raises(InvalidOperationError):
        await run(consul, operation, **payload)
    assert fake_consul.seen == []


async def test_unreachable_consul_is_an_execution_error(started: Start, closed_port: int) -> None:
    handler: ConsulHandler = await started(
        ConsulHandler(), address=f"http://127.0.0.1:{closed_port}"
    )
    with pytest.raises(HandlerExecutionError) as raised:
        await run(handler, "list_services")
    assert raised.value.code == "HANDLER_EXECUTION_ERROR"


async def test_a_consul_that_never_answers_times_out(started: Start) -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(65536)
        await asyncio.sleep(5)
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    handler: ConsulHandler = await started(
        ConsulHandler(), address=f"http://127.0.0.1:{port}", timeout_ms=200
    )
    try:
        with pytest.raises(HandlerTimeoutError):
            await run(handler, "list_services")
    finally:
        server.close()
