"""NodeRuntime: routes every command to a response, reachable error codes, lifecycle."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from uuid import UUID

import pytest

from onex_stream.core.contracts import ModelNodeContract
from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.errors import HandlerConfigurationError
from onex_stream.core.handlers.local import LocalHandler
from onex_stream.core.ports import HandlerResult
from onex_stream.core.responses import ResponseFactory
from onex_stream.core.runtime import NodeRuntime
from tests.support.deterministic import DeterministicClock, DeterministicIds


def node(name: str, *ops: str) -> ModelNodeContract:
    io = [{"type": op.split(".")[0], "operations": [op]} for op in ops]
    return ModelNodeContract.model_validate(
        {"schema_version": "1.0.0", "name": name, "node_type": "COMPUTE", "io_operations": io}
    )


class RecordingHandler:
    """A handler of type http that records lifecycle calls and can fail on demand."""

    handler_type = EnumHandlerType.HTTP
    supported_operations = frozenset({"http.get"})

    def __init__(self, fail_with: Exception | None = None) -> None:
        self.calls: list[str] = []
        self.fail_with = fail_with

    async def initialize(self, config: Mapping[str, Any]) -> None:
        self.calls.append(f"initialize:{dict(config)}")

    async def shutdown(self) -> None:
        self.calls.append("shutdown")
        if self.fail_with:
            raise self.fail_with

    async def execute(self, envelope: ModelOnexEnvelope) -> HandlerResult:
        if self.fail_with:
            raise self.fail_with
        return {"status_code": 200}

    async def health_check(self) -> dict[str, Any]:
        if self.fail_with:
            raise self.fail_with
        return {"healthy": True}

    def describe(self) -> dict[str, Any]:
        return {"supported_operations": sorted(self.supported_operations)}


@pytest.fixture
def runtime(ids: DeterministicIds, clock: DeterministicClock) -> NodeRuntime:
    rt = NodeRuntime("host", ResponseFactory(ids, clock))
    rt.register_handler(LocalHandler())
    rt.register_node(node("echo_node", "local.echo", "local.error", "http.get"))
    rt.register_node(node("other_node", "local.echo"))
    return rt


def command(**fields: Any) -> ModelOnexEnvelope:
    base = {
        "envelope_id": str(UUID(int=1)),
        "correlation_id": str(UUID(int=2)),
        "source_node": "client",
        "target_node": "echo_node",
        "handler_type": "local",
        "operation": "local.echo",
        "payload": {"x": 1},
    }
    return ModelOnexEnvelope.model_validate({**base, **fields})


async def test_routes_to_the_target_node_and_handler(runtime: NodeRuntime) -> None:
    request = command()
    response = (await runtime.route_envelope(request)).response
    assert response.success is True
    assert response.payload == {"x": 1}
    assert response.source_node == "echo_node"
    assert (response.correlation_id, response.causation_id) == (UUID(int=2), UUID(int=1))
    assert response.envelope_id == UUID(int=1001)


async def test_route_never_mutates_the_request(runtime: NodeRuntime) -> None:
    request = command(payload={"nested": {"a": "b"}})
    before = request.model_dump()
    await runtime.route_envelope(command(operation="local.transform"))
    await runtime.route_envelope(request)
    assert request.model_dump() == before


async def test_missing_target_uses_the_only_node(ids: DeterministicIds) -> None:
    rt = NodeRuntime("host", ResponseFactory(ids))
    rt.register_handler(LocalHandler())
    rt.register_node(node("solo", "local.echo"))
    response = (await rt.route_envelope(command(target_node=None))).response
    assert response.success is True and response.source_node == "solo"


async def expect_error(runtime: NodeRuntime, request: ModelOnexEnvelope, code: str) -> dict:
    response = (await runtime.route_envelope(request)).response
    assert response.is_response and response.success is False
    assert response.error is not None and response.error.code == code
    assert response.correlation_id == request.correlation_id
    assert response.causation_id == request.envelope_id
    return response.error.details or {}


async def test_missing_target_with_several_nodes_is_node_not_found(runtime: NodeRuntime) -> None:
    details = await expect_error(runtime, command(target_node=None), "NODE_NOT_FOUND")
    assert details == {"available_nodes": ["echo_node", "other_node"]}


async def test_unknown_node_is_node_not_found(runtime: NodeRuntime) -> None:
    await expect_error(runtime, command(target_node="ghost"), "NODE_NOT_FOUND")


async def test_unregistered_handler_lists_the_available_ones(runtime: NodeRuntime) -> None:
    request = command(handler_type="http", operation="http.get")
    details = await expect_error(runtime, request, "HANDLER_NOT_FOUND")
    assert details == {"available_handlers": ["local"]}


async def test_unsupported_operation_lists_the_available_ones(runtime: NodeRuntime) -> None:
    details = await expect_error(runtime, command(operation="local.fly"), "INVALID_OPERATION")
    assert details == {"available_operations": ["local.echo", "local.error", "local.transform"]}


async def test_operation_not_declared_by_the_node_is_not_allowed(runtime: NodeRuntime) -> None:
    request = command(target_node="other_node", operation="local.transform")
    details = await expect_error(runtime, request, "OPERATION_NOT_ALLOWED")
    assert details == {"declared_operations": ["local.echo"]}


async def test_handler_errors_keep_their_code(runtime: NodeRuntime) -> None:
    request = command(operation="local.error", payload={"error_code": "HANDLER_TIMEOUT"})
    await expect_error(runtime, request, "HANDLER_TIMEOUT")


async def test_raw_handler_exceptions_become_execution_errors_without_trace(
    ids: DeterministicIds,
) -> None:
    rt = NodeRuntime("host", ResponseFactory(ids))
    rt.register_handler(RecordingHandler(fail_with=KeyError("secret-detail")))
    rt.register_node(node("n", "http.get"))
    request = command(target_node="n", handler_type="http", operation="http.get")
    response = (await rt.route_envelope(request)).response
    assert response.error is not None
    assert response.error.code == "HANDLER_EXECUTION_ERROR"
    assert response.error.message == "handler failed: KeyError"
    assert "secret-detail" not in response.to_json().decode()


async def test_expired_commands_are_not_executed(
    runtime: NodeRuntime, clock: DeterministicClock
) -> None:
    request = command(timestamp=clock.now.isoformat(), ttl_seconds=5, operation="local.error")
    clock.advance(5)
    await expect_error(runtime, request, "ENVELOPE_EXPIRED")


async def test_commands_within_ttl_run(runtime: NodeRuntime, clock: DeterministicClock) -> None:
    request = command(timestamp=clock.now.isoformat(), ttl_seconds=5)
    clock.advance(4.9)
    assert (await runtime.route_envelope(request)).response.success is True


async def test_a_response_fed_back_as_command_is_a_validation_error(runtime: NodeRuntime) -> None:
    await expect_error(runtime, command(is_response=True), "ENVELOPE_VALIDATION_ERROR")


def test_duplicate_handler_type_is_refused(runtime: NodeRuntime) -> None:
    with pytest.raises(HandlerConfigurationError, match="already registered"):
        runtime.register_handler(LocalHandler())


def test_duplicate_node_is_refused(runtime: NodeRuntime) -> None:
    with pytest.raises(HandlerConfigurationError, match="already registered"):
        runtime.register_node(node("echo_node", "local.echo"))


async def test_lifecycle_initializes_with_config_and_shuts_down_exactly_once() -> None:
    rt = NodeRuntime("host")
    handler = RecordingHandler()
    rt.register_handler(handler)
    await rt.initialize({EnumHandlerType.HTTP: {"timeout_ms": 5}})
    await rt.shutdown()
    await rt.shutdown()
    assert handler.calls == ["initialize:{'timeout_ms': 5}", "shutdown"]


async def test_shutdown_reaches_every_handler_even_when_one_fails() -> None:
    rt = NodeRuntime("host")
    failing, local = RecordingHandler(fail_with=RuntimeError("x")), LocalHandler()
    rt.register_handler(failing)
    rt.register_handler(local)
    await rt.initialize({})
    await rt.shutdown()
    assert failing.calls[-1] == "shutdown"
    assert (await local.health_check())["healthy"] is False


async def test_health_check_aggregates_handlers() -> None:
    rt = NodeRuntime("host")
    rt.register_handler(LocalHandler())
    rt.register_handler(RecordingHandler(fail_with=RuntimeError("down")))
    await rt.initialize({})
    health = await rt.health_check()
    assert health["healthy"] is False
    assert health["handlers"]["http"] == {"healthy": False, "error": "RuntimeError"}
    assert health["handlers"]["local"]["dev_test_only"] is True
