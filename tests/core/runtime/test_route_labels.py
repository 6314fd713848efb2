"""NodeRuntime hands back the metric labels of each route, with the response."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from onex_stream.core.contracts import ModelNodeContract
from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.handlers.local import LocalHandler
from onex_stream.core.responses import ResponseFactory
from onex_stream.core.runtime import UNKNOWN_LABELS, NodeRuntime, RouteLabels
from onex_stream.core.runtime.route import UNKNOWN
from onex_stream.infra.observability import metrics
from tests.support.deterministic import DeterministicClock, DeterministicIds


def node(name: str, *ops: str) -> ModelNodeContract:
    io = [{"type": "local", "operations": list(ops)}]
    return ModelNodeContract.model_validate(
        {"schema_version": "1.0.0", "name": name, "node_type": "COMPUTE", "io_operations": io}
    )


@pytest.fixture
def runtime(ids: DeterministicIds, clock: DeterministicClock) -> NodeRuntime:
    rt = NodeRuntime("host", ResponseFactory(ids, clock))
    rt.register_handler(LocalHandler())
    rt.register_node(node("echo_node", "local.echo", "local.error"))
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


def test_core_and_metrics_agree_on_the_unknown_label() -> None:
    assert UNKNOWN == metrics.UNKNOWN
    assert RouteLabels(UNKNOWN, UNKNOWN, UNKNOWN) == UNKNOWN_LABELS


@pytest.mark.parametrize(
    ("fields", "outcome", "labels"),
    [
        ({}, "success", ("echo_node", "local", "local.echo")),
        (
            {"operation": "local.error"},
            "HANDLER_EXECUTION_ERROR",
            ("echo_node", "local", "local.error"),
        ),
        ({"target_node": "ghost"}, "NODE_NOT_FOUND", (UNKNOWN, "local", "local.echo")),
        ({"target_node": None}, "NODE_NOT_FOUND", (UNKNOWN, "local", "local.echo")),
        (
            {"handler_type": "http", "operation": "http.get"},
            "HANDLER_NOT_FOUND",
            ("echo_node", UNKNOWN, UNKNOWN),
        ),
        ({"operation": "local.fly"}, "INVALID_OPERATION", ("echo_node", "local", UNKNOWN)),
        (
            {"target_node": "other_node", "operation": "local.transform"},
            "OPERATION_NOT_ALLOWED",
            ("other_node", "local", "local.transform"),
        ),
        ({"is_response": True}, "ENVELOPE_VALIDATION_ERROR", ("echo_node", "local", "local.echo")),
    ],
)
async def test_labels_name_what_the_runtime_knows(
    runtime: NodeRuntime, fields: dict[str, Any], outcome: str, labels: tuple[str, str, str]
) -> None:
    routed = await runtime.route_envelope(command(**fields))
    error = routed.response.error
    assert (error.code if error else "success") == outcome
    assert routed.labels == RouteLabels(*labels)


@pytest.mark.parametrize(
    ("target", "labels"),
    [
        ("echo_node", ("echo_node", "local", "local.echo")),
        ("ghost", (UNKNOWN, "local", "local.echo")),
    ],
)
async def test_an_expired_envelope_keeps_the_labels_of_its_route(
    runtime: NodeRuntime, clock: DeterministicClock, target: str, labels: tuple[str, str, str]
) -> None:
    request = command(timestamp=clock.now.isoformat(), ttl_seconds=5, target_node=target)
    clock.advance(5)
    routed = await runtime.route_envelope(request)
    assert routed.response.error is not None
    assert routed.response.error.code == "ENVELOPE_EXPIRED"
    assert routed.labels == RouteLabels(*labels)


async def test_the_only_node_is_the_label_of_an_untargeted_envelope(ids: DeterministicIds) -> None:
    rt = NodeRuntime("host", ResponseFactory(ids))
    rt.register_handler(LocalHandler())
    rt.register_node(node("solo", "local.echo"))
    routed = await rt.route_envelope(command(target_node=None))
    assert routed.response.success is True
    assert routed.labels == RouteLabels("solo", "local", "local.echo")


async def test_resolve_then_dispatch_is_route_envelope(runtime: NodeRuntime) -> None:
    route = runtime.resolve(command())
    assert route.node is runtime.nodes["echo_node"]
    assert route.handler is next(iter(runtime.handlers.values()))
    assert route.labels == RouteLabels("echo_node", "local", "local.echo")
    response = await runtime.dispatch(route)
    assert response.success is True and response.source_node == "echo_node"
