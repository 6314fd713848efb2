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
    RuntimeHostError,
)
from onex_stream.core.ports import HandlerPort, HandlerResult
from onex_stream.core.responses import ResponseFactory
from onex_stream.core.runtime.node_instance import NodeInstance

logger = logging.getLogger(__name__)


class NodeRuntime:
    """Hosts nodes and handlers and turns every command into a response.

    NodeRuntime owns no event loop, consumer or background task: the runtime host
    process (infra) consumes the bus and calls ``route_envelope`` for each command.
    It never mutates an envelope and never assigns a correlation_id; errors of any
    kind come back as ``success=false`` responses, never as exceptions.
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
        node = self._nodes[contract.name] = NodeInstance(contract, self)
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

    async def route_envelope(self, envelope: ModelOnexEnvelope) -> ModelOnexEnvelope:
        """Route a command to its node and handler; always returns a response."""
        node_slug = self.name
        try:
            node = self._resolve(envelope)
            node_slug = node.slug
            payload = await node.handle(envelope)
        except RuntimeHostError as error:
            return self.responses.failure(envelope, error, source_node=node_slug)
        except Exception as exc:
            logger.exception("unexpected error handling envelope %s", envelope.envelope_id)
            unexpected = HandlerExecutionError(
                f"handler failed: {type(exc).__name__}",
                correlation_id=envelope.correlation_id,
                handler_type=envelope.handler_type,
                operation=envelope.operation,
            )
            return self.responses.failure(envelope, unexpected, source_node=node_slug)
        return self.responses.success(envelope, payload, source_node=node_slug)

    async def execute_with_handler(self, envelope: ModelOnexEnvelope) -> HandlerResult:
        """Run the envelope on its handler (nodes call this after their checks)."""
        return await self._handler_for(envelope).execute(envelope)

    def _resolve(self, envelope: ModelOnexEnvelope) -> NodeInstance:
        if envelope.is_response or envelope.handler_type is None or envelope.operation is None:
            raise EnvelopeValidationError(
                "a command needs is_response=false, handler_type and operation",
                correlation_id=envelope.correlation_id,
            )
        self._check_ttl(envelope)
        node = self._node_for(envelope)
        handler = self._handler_for(envelope)
        if envelope.operation not in handler.supported_operations:
            raise InvalidOperationError(
                f"operation '{envelope.operation}' is not supported by the "
                f"{envelope.handler_type.value} handler",
                correlation_id=envelope.correlation_id,
                handler_type=envelope.handler_type.value,
                operation=envelope.operation,
                details={"available_operations": sorted(handler.supported_operations)},
            )
        return node

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

    def _node_for(self, envelope: ModelOnexEnvelope) -> NodeInstance:
        slug = envelope.target_node
        if slug is None and len(self._nodes) == 1:
            return next(iter(self._nodes.values()))
        node = self._nodes.get(slug) if slug is not None else None
        if node is None:
            reason = f"unknown node '{slug}'" if slug else "no target_node and several nodes"
            raise NodeNotFoundError(
                reason,
                correlation_id=envelope.correlation_id,
                handler_type=envelope.handler_type,
                operation=envelope.operation,
                details={"available_nodes": sorted(self._nodes)},
            )
        return node

    def _handler_for(self, envelope: ModelOnexEnvelope) -> HandlerPort:
        assert envelope.handler_type is not None
        handler = self._handlers.get(envelope.handler_type)
        if handler is None:
            raise HandlerNotFoundError(
                f"no handler registered for type '{envelope.handler_type.value}'",
                correlation_id=envelope.correlation_id,
                handler_type=envelope.handler_type.value,
                operation=envelope.operation,
                details={"available_handlers": sorted(t.value for t in self._handlers)},
            )
        return handler
