"""End to end on the memory:// transport: command topic -> host -> event topic."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from onex_stream.bootstrap import build_host
from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.errors import (
    ContractValidationError,
    HandlerConfigurationError,
    RuntimeHostError,
    SecretResolutionError,
)
from onex_stream.core.ports import HandlerResult
from onex_stream.infra.handlers.decorator import HandlerDecorator
from tests.support.deterministic import DeterministicClock, DeterministicIds
from tests.support.hosts import RunningHost, running_host

RUNTIME = """\
schema_version: "2.0.0"
runtime:
  name: "e2e_host"
  event_bus:
    kind: "inmemory"
    config:
      topics: {input: "onex.test.orders.cmd.v1"}
      partitions: 4
  handlers:
    - type: "local"
    - type: "http"
  nodes:
    - slug: "echo_node"
    - slug: "strict_node"
"""
ECHO = """\
schema_version: "1.0.0"
name: "echo_node"
node_type: "COMPUTE"
io_operations:
  - {type: local, operations: ["local.echo", "local.transform", "local.error"]}
  - {type: http, operations: ["http.get"]}
"""
STRICT = """\
schema_version: "1.0.0"
name: "strict_node"
node_type: "EFFECT"
io_operations:
  - {type: local, operations: ["local.echo"]}
"""


class FailingHttpHandler:
    """Test double of type http that fails as its payload asks (for error codes)."""

    handler_type = EnumHandlerType.HTTP
    supported_operations = frozenset({"http.get"})

    async def initialize(self, config: Mapping[str, Any]) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def execute(self, envelope: ModelOnexEnvelope) -> HandlerResult:
        fail = (envelope.payload or {}).get("fail")
        if fail == "secret":
            raise SecretResolutionError("vault:secret/x#token could not be resolved")
        raise RuntimeHostError("the runtime broke")

    async def health_check(self) -> dict[str, Any]:
        return {"healthy": True}

    def describe(self) -> dict[str, Any]:
        return {}


@pytest.fixture
def contract(tmp_path: Path) -> Path:
    (tmp_path / "runtime").mkdir()
    (tmp_path / "nodes").mkdir()
    (tmp_path / "nodes" / "echo_node.yaml").write_text(ECHO)
    (tmp_path / "nodes" / "strict_node.yaml").write_text(STRICT)
    path = tmp_path / "runtime" / "host.yaml"
    path.write_text(RUNTIME)
    return path


@pytest.fixture
async def running(
    contract: Path, ids: DeterministicIds, clock: DeterministicClock
) -> AsyncIterator[RunningHost]:
    async with running_host(
        contract,
        ids=ids,
        clock=clock,
        extra_handlers={EnumHandlerType.HTTP: FailingHttpHandler},
        max_envelope_bytes=4096,
    ) as host:
        yield host


def command(n: int, **fields: Any) -> dict[str, Any]:
    return {
        "envelope_id": str(UUID(int=n)),
        "correlation_id": str(UUID(int=10_000 + n)),
        "source_node": "client",
        "target_node": "echo_node",
        "handler_type": "local",
        "operation": "local.echo",
        "timestamp": "2024-01-01T00:00:00Z",
        "payload": {"n": n},
        **fields,
    }


async def test_a_command_is_routed_and_its_response_published(
    running: RunningHost, clock: DeterministicClock
) -> None:
    running.send(command(1, operation="local.transform", payload={"name": "ada"}))
    (response,) = await running.responses(1)
    assert response == ModelOnexEnvelope(
        envelope_id=UUID(int=1001),
        correlation_id=UUID(int=10_001),
        causation_id=UUID(int=1),
        source_node="echo_node",
        target_node="client",
        handler_type=EnumHandlerType.LOCAL,
        operation="local.transform",
        payload={"name": "ADA"},
        metadata={"original_target_node": "echo_node"},
        timestamp=clock.now,
        is_response=True,
        success=True,
    )
    (record,) = running.records("event")
    assert record.key == str(UUID(int=10_001)).encode()
    assert ("content-type", b"application/json") in record.headers


async def test_a_missing_correlation_id_is_assigned_once_and_echoed(running: RunningHost) -> None:
    request = command(2)
    del request["correlation_id"]
    running.send(request)
    (response,) = await running.responses(1)
    assert response.correlation_id == UUID(int=1001)  # the first id the host made
    assert response.envelope_id == UUID(int=1002)  # the only other one
    assert response.causation_id == UUID(int=2)


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"target_node": "ghost"}, "NODE_NOT_FOUND"),
        ({"handler_type": "vault", "operation": "vault.get_secret"}, "HANDLER_NOT_FOUND"),
        ({"operation": "local.fly"}, "INVALID_OPERATION"),
        ({"target_node": "strict_node", "operation": "local.transform"}, "OPERATION_NOT_ALLOWED"),
        ({"operation": "local.error"}, "HANDLER_EXECUTION_ERROR"),
        (
            {"operation": "local.error", "payload": {"error_code": "HANDLER_TIMEOUT"}},
            "HANDLER_TIMEOUT",
        ),
        ({"operation": "local.error", "payload": {"error_code": "RATE_LIMITED"}}, "RATE_LIMITED"),
        ({"operation": "local.error", "payload": {"error_code": "CIRCUIT_OPEN"}}, "CIRCUIT_OPEN"),
        ({"timestamp": "2023-12-31T23:59:00Z", "ttl_seconds": 30}, "ENVELOPE_EXPIRED"),
        ({"envelope_version": "2.0"}, "ENVELOPE_VALIDATION_ERROR"),
        (
            {"handler_type": "http", "operation": "http.get", "payload": {"fail": "secret"}},
            "SECRET_RESOLUTION_ERROR",
        ),
        ({"handler_type": "http", "operation": "http.get"}, "INTERNAL_ERROR"),
    ],
)
async def test_every_error_code_is_reachable_from_the_bus(
    running: RunningHost, fields: dict[str, Any], code: str
) -> None:
    running.send(command(3, **fields))
    (response,) = await running.responses(1)
    assert response.success is False
    assert response.error is not None and response.error.code == code
    assert response.correlation_id == UUID(int=10_003)
    assert response.causation_id == UUID(int=3)


async def test_unregistered_handler_lists_the_available_handlers(running: RunningHost) -> None:
    running.send(command(4, handler_type="db", operation="db.query"))
    (response,) = await running.responses(1)
    assert response.error is not None
    assert response.error.details == {"available_handlers": ["http", "local"]}


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe not json", "not UTF-8: byte 0xff at 0: invalid start byte"),
        (b'{"a": "\xed\xa0\x80"}', "not UTF-8: byte 0xed at 7: invalid continuation byte"),
        (b"not json", "not JSON"),
        (b"[1, 2, 3]", "must be a JSON object"),
        (b'{"hello": "world"}', "invalid envelope"),
    ],
)
async def test_undecodable_records_go_to_the_dead_letter_topic_and_the_worker_goes_on(
    running: RunningHost, raw: bytes, reason: str
) -> None:
    partition, offset = running.send(raw, key=b"k")
    (letter,) = await running.dead_letters(1)
    assert (letter.value, letter.key) == (raw, b"k")
    headers = dict(letter.headers)
    assert reason in headers["onex-dlq-reason"].decode()
    assert headers["onex-dlq-error-code"] == b"ENVELOPE_VALIDATION_ERROR"
    assert headers["onex-dlq-topic"] == running.subscription.input.encode()
    assert (headers["onex-dlq-partition"], headers["onex-dlq-offset"]) == (
        str(partition).encode(),
        str(offset).encode(),
    )
    running.send(command(5))
    (response,) = await running.responses(1)
    assert response.success is True


async def test_wrong_field_types_are_dead_lettered_and_answered(running: RunningHost) -> None:
    running.send(command(6, payload="not an object", ttl_seconds="soon"))
    (letter,) = await running.dead_letters(1)
    (response,) = await running.responses(1)
    assert response.error is not None and response.error.code == "ENVELOPE_VALIDATION_ERROR"
    fields = {p["field"] for p in response.error.details["problems"]}  # type: ignore[index]
    assert fields == {"payload", "ttl_seconds"}
    assert (response.correlation_id, response.causation_id) == (UUID(int=10_006), UUID(int=6))
    assert letter.value is not None and b"not an object" in letter.value


async def test_oversize_envelopes_are_refused_without_stopping_the_worker(
    running: RunningHost,
) -> None:
    running.send(command(7, payload={"blob": "x" * 5000}))
    running.send(command(8))
    responses = await running.responses(2)
    by_cause = {r.causation_id: r for r in responses}
    refused = by_cause[UUID(int=7)]
    assert refused.error is not None and refused.error.code == "ENVELOPE_VALIDATION_ERROR"
    assert refused.error.details == {"size_bytes": pytest.approx(5300, abs=300), "max_bytes": 4096}
    assert by_cause[UUID(int=8)].success is True
    assert len(await running.dead_letters(1)) == 1


async def test_hundred_envelopes_over_four_partitions_are_answered_once_in_partition_order(
    running: RunningHost,
) -> None:
    sent: dict[int, list[int]] = {}
    for n in range(100, 200):
        partition, _ = running.send(command(n), key=f"customer-{n % 16}".encode())
        sent.setdefault(partition, []).append(n)
    assert len(sent) == 4
    responses = await running.responses(100)
    assert sorted(r.causation_id.int for r in responses if r.causation_id) == list(range(100, 200))
    # response ids come from a counter, so they follow processing order
    processed = {r.causation_id.int: r.envelope_id.int for r in responses if r.causation_id}
    for partition, numbers in sent.items():
        order = [processed[n] for n in numbers]
        assert order == sorted(order), f"partition {partition} answered out of order"


def test_local_handler_is_refused_in_prod(contract: Path) -> None:
    with pytest.raises(HandlerConfigurationError, match="dev/test only"):
        build_host(contract, env={"ONEX_ENV": "prod"})
    with pytest.raises(HandlerConfigurationError, match="dev/test only"):
        build_host(contract, env={})


def test_unknown_onex_env_is_refused(contract: Path) -> None:
    with pytest.raises(HandlerConfigurationError, match="ONEX_ENV='staging'"):
        build_host(contract, env={"ONEX_ENV": "staging"})


def test_a_malformed_contract_or_topic_fails_fast(contract: Path) -> None:
    contract.write_text(RUNTIME.replace("onex.test.orders.cmd.v1", "onex.admin.orders.cmd.v1"))
    with pytest.raises(ContractValidationError, match="reserved namespace"):
        build_host(contract, env={"ONEX_ENV": "test"})


def test_policy_settings_are_applied_around_the_handler(contract: Path) -> None:
    contract.write_text(
        RUNTIME.replace(
            '    - type: "http"\n',
            '    - type: "http"\n      config:\n        retry_policy: {max_retries: 2}\n'
            "        rate_limit_per_second: 5\n        timeout_ms: 200\n",
        )
    )
    host = build_host(
        contract,
        env={"ONEX_ENV": "test"},
        extra_handlers={EnumHandlerType.HTTP: FailingHttpHandler},
        logs="as-is",
    )
    layers = []
    handler: Any = host.runtime.handlers[EnumHandlerType.HTTP]
    while isinstance(handler, HandlerDecorator):
        layers.append(type(handler).__name__)
        handler = handler.inner
    assert layers == [
        "InstrumentedHandler",
        "RetryingHandler",
        "RateLimitedHandler",
        "TimeoutHandler",
    ]
    assert isinstance(handler, FailingHttpHandler)
