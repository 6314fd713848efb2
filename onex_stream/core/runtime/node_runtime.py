"""NodeRuntime: routes envelopes to nodes and handlers; pure, never raises to callers."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from onex_stream.core.contracts.node_contract import ModelNodeContract
from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.errors import (
    EnvelopeExpiredError,
    EnvelopeValidationError,
    HandlerConfigurationError,
    HandlerExecutionError,
    HandlerNotFoundError,
    InvalidOperationError,
    NodeNotFoundError,
    OperationNotAllowedError,
    RuntimeHostError,
)
from onex_stream.core.ports import HandlerPort
from onex_stream.core.responses import ResponseFactory
from onex_stream.core.runtime.node_instance import NodeInstance
from onex_stream.core.runtime.route import Route, Routed

logger = logging.getLogger(__name__)


class NodeRuntime:
    """Hosts nodes and handlers and turns every command into a response.

    NodeRuntime owns no event loop, consumer or background task: the runtime host
    (infra) consumes the bus and routes each command (``resolve`` then ``dispatch``,
    or both with ``route_envelope``). It never mutates an envelope and never assigns
    a correlation_id; errors come back as ``success=false`` responses, never raised.
    """

    def __init__(self, name: str, responses: ResponseFactory | None = None) -> None:
        self.name = name
        self.responses = responses or ResponseFactory()
        self._handlers: dict[EnumHandlerType, HandlerPort] = {}
        self._nodes: dict[str, NodeInstance] = {}
        self._shut_down = False

    @property
    def handlers(self) -> Mapping[EnumHandlerType, HandlerPort]:
        """Registered handlers by type."""
        return self._handlers

    @property
    def nodes(self) -> Mapping[str, NodeInstance]:
        """Hosted nodes by slug."""
        return self._nodes

    def register_handler(self, handler: HandlerPort) -> None:
        """Register a handler; a second handler of the same type is refused."""
        if handler.handler_type in self._handlers:
            raise HandlerConfigurationError(
                f"a {handler.handler_type.value} handler is already registered",
                handler_type=handler.handler_type.value,
            )
        self._handlers[handler.handler_type] = handler

    def register_node(self, contract: ModelNodeContract) -> NodeInstance:
        """Host the node described by ``contract``."""
        if contract.name in self._nodes:
            raise HandlerConfigurationError(f"node '{contract.name}' is already registered")
        node = self._nodes[contract.name] = NodeInstance(contract)
        return node

    async def initialize(self, configs: Mapping[EnumHandlerType, Mapping[str, Any]]) -> None:
        """Initialize every handler once, with its config."""
        for handler_type, handler in self._handlers.items():
            await handler.initialize(configs.get(handler_type, {}))

    async def shutdown(self) -> None:
        """Shut every handler down exactly once, even if some fail."""
        if self._shut_down:
            return
        self._shut_down = True
        for handler in self._handlers.values():
            try:
                await handler.shutdown()
            except Exception:
                logger.exception("handler %s failed to shut down", handler.handler_type.value)
            else:
                logger.info("Handler shut down: %s", handler.handler_type.value)

    async def health_check(self) -> dict[str, Any]:
        """Every handler's health; healthy when all of them are."""
        report: dict[str, Any] = {}
        for handler_type, handler in self._handlers.items():
            try:
                report[handler_type.value] = await handler.health_check()
            except Exception as exc:
                report[handler_type.value] = {"healthy": False, "error": type(exc).__name__}
        healthy = all(entry.get("healthy") is True for entry in report.values())
        return {"healthy": healthy and not self._shut_down, "handlers": report}

    async def route_envelope(self, envelope: ModelOnexEnvelope) -> Routed:
        """Route a command: ``resolve`` then ``dispatch``; never raises."""
        route = self.resolve(envelope)
        return Routed(await self.dispatch(route), route.labels)

    def resolve(self, envelope: ModelOnexEnvelope) -> Route:
        """Look up the envelope's node and handler, once each; never raises."""
        slug, kind = envelope.target_node, envelope.handler_type
        if slug is None:
            node = next(iter(self._nodes.values())) if len(self._nodes) == 1 else None
        else:
            node = self._nodes.get(slug)
        handler = self._handlers.get(kind) if kind is not None else None
        return Route.of(envelope, node, handler)

    async def dispatch(self, route: Route) -> ModelOnexEnvelope:
        """Check, then execute, a resolved command; always returns a response.

        The first failing check wins: a command, not expired, node and handler found,
        operation supported by the handler, then declared by the node contract.
        """
        envelope, source_node = route.envelope, self.name
        try:
            node, handler = self._admit(route)
            source_node = node.slug
            _check_declared(node, envelope)
            payload = await handler.execute(envelope)
        except RuntimeHostError as error:
            return self.responses.failure(envelope, error, source_node=source_node)
        except Exception as exc:
            logger.exception("unexpected error handling envelope %s", envelope.envelope_id)
            unexpected = HandlerExecutionError(
                f"handler failed: {type(exc).__name__}",
                correlation_id=envelope.correlation_id,
                handler_type=envelope.handler_type,
                operation=envelope.operation,
            )
            return self.responses.failure(envelope, unexpected, source_node=source_node)
        return self.responses.success(envelope, payload, source_node=source_node)

    def _admit(self, route: Route) -> tuple[NodeInstance, HandlerPort]:
        envelope, node, handler = route.envelope, route.node, route.handler
        if envelope.is_response or envelope.handler_type is None or envelope.operation is None:
            raise EnvelopeValidationError(
                "a command needs is_response=false, handler_type and operation",
                correlation_id=envelope.correlation_id,
            )
        self._check_ttl(envelope)
        if node is None:
            slug = envelope.target_node
            reason = f"unknown node '{slug}'" if slug else "no target_node and several nodes"
            raise NodeNotFoundError(
                reason,
                correlation_id=envelope.correlation_id,
                handler_type=envelope.handler_type,
                operation=envelope.operation,
                details={"available_nodes": sorted(self._nodes)},
            )
        if handler is None:
            raise HandlerNotFoundError(
                f"no handler registered for type '{envelope.handler_type.value}'",
                correlation_id=envelope.correlation_id,
                handler_type=envelope.handler_type.value,
                operation=envelope.operation,
                details={"available_handlers": sorted(t.value for t in self._handlers)},
            )
        if not route.supported:
            raise InvalidOperationError(
                f"operation '{envelope.operation}' is not supported by the "
                f"{envelope.handler_type.value} handler",
                correlation_id=envelope.correlation_id,
                handler_type=envelope.handler_type.value,
                operation=envelope.operation,
                details={"available_operations": sorted(handler.supported_operations)},
            )
        return node, handler

    def _check_ttl(self, envelope: ModelOnexEnvelope) -> None:
        if envelope.ttl_seconds is None or envelope.timestamp is None:
            return
        expires = envelope.timestamp + timedelta(seconds=envelope.ttl_seconds)
        if self.responses.clock() >= expires:
            raise EnvelopeExpiredError(
                f"envelope expired at {expires.isoformat()}",
                correlation_id=envelope.correlation_id,
                handler_type=envelope.handler_type,
                operation=envelope.operation,
            )


def _check_declared(node: NodeInstance, envelope: ModelOnexEnvelope) -> None:
    assert envelope.handler_type is not None and envelope.operation is not None
    if not node.contract.allows(envelope.handler_type, envelope.operation):
        raise OperationNotAllowedError(
            f"node '{node.slug}' does not declare operation '{envelope.operation}'",
            correlation_id=envelope.correlation_id,
            handler_type=envelope.handler_type.value,
            operation=envelope.operation,
            details={"declared_operations": node.contract.declared_operations()},
        )
