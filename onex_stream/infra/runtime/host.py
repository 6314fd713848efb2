"""RuntimeHost: the runtime host process (NodeRuntime driven by an event bus)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from uuid import UUID

from onex_stream.core.contracts import HostDefinition
from onex_stream.core.contracts.locations import handler_location
from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.errors import EnvelopeValidationError, HostStartError, RuntimeHostError
from onex_stream.core.runtime import UNKNOWN_LABELS, NodeRuntime, RouteLabels
from onex_stream.infra.observability.log_context import envelope_context
from onex_stream.infra.observability.metrics import HostMetrics
from onex_stream.infra.runtime.handler_start import initialize_handlers
from onex_stream.spi import ProtocolEventBus

logger = logging.getLogger(__name__)


class RuntimeHost:
    """Owns the NodeRuntime and the event bus; the seeds' BaseRuntimeHostProcess.

    It subscribes every command topic of the contract, is the only component
    that assigns a correlation_id (when a command has none), initializes the
    handlers once before consumption and shuts them down exactly once after it.
    """

    def __init__(
        self,
        definition: HostDefinition,
        runtime: NodeRuntime,
        handler_configs: Mapping[EnumHandlerType, Mapping[str, Any]],
        bus: ProtocolEventBus,
        metrics: HostMetrics,
    ) -> None:
        self.definition = definition
        self.runtime = runtime
        self.bus = bus
        self.metrics = metrics
        self._handler_configs = handler_configs
        self._started = False
        for subscription in definition.contract.runtime.subscriptions:
            bus.subscribe(subscription.input, self.handle, self.handle_invalid)
        bus.add_lifecycle_hooks(on_start=self.start, on_ready=self.ready, on_stop=self.stop)

    @property
    def command_topics(self) -> list[str]:
        """The command topics this host consumes."""
        return [s.input for s in self.definition.contract.runtime.subscriptions]

    async def start(self) -> None:
        """Initialize every handler once (before consumption starts): vault first, then
        the others with their ``vault:`` references resolved (``initialize_handlers``).

        A handler that fails raises :class:`HostStartError` naming the handler and its
        line in the contract.
        """
        if self._started:
            return
        self._started = True
        try:
            await initialize_handlers(self.runtime, self._handler_configs)
        except RuntimeHostError as error:
            where = handler_location(self.definition.path, error.handler_type)
            handler = f"the {error.handler_type} handler" if error.handler_type else "a handler"
            message = f"{where}: {handler} failed to initialize: {error.message}"
            raise HostStartError(message, error) from None

    async def ready(self) -> None:
        """Log that the host consumes its topics."""
        logger.info("RuntimeHost ready. Listening on topic(s): %s", ", ".join(self.command_topics))

    async def stop(self) -> None:
        """Shut every handler down exactly once (after consumption stopped)."""
        await self.runtime.shutdown()
        logger.info("RuntimeHost stopped: %s", self.runtime.name)

    async def handle(self, envelope: ModelOnexEnvelope) -> ModelOnexEnvelope:
        """Answer a command: assign a correlation_id if missing, then route it.

        Log records made meanwhile carry the envelope's ids; the outcome is counted.
        """
        if envelope.correlation_id is None:
            envelope = envelope.model_copy(update={"correlation_id": self.runtime.responses.ids()})
        route = self.runtime.resolve(envelope)
        with envelope_context(envelope, route.labels.node):
            response = await self.runtime.dispatch(route)
        self._count(route.labels, response)
        return response

    async def handle_invalid(
        self,
        error: EnvelopeValidationError,
        correlation_id: UUID | None,
        envelope_id: UUID | None,
    ) -> ModelOnexEnvelope:
        """Answer an undecodable command with ENVELOPE_VALIDATION_ERROR."""
        correlation_id = correlation_id or self.runtime.responses.ids()
        error.correlation_id = correlation_id
        response = self.runtime.responses.failure_for_undecoded(
            error,
            source_node=self.runtime.name,
            correlation_id=correlation_id,
            causation_id=envelope_id,
        )
        self._count(UNKNOWN_LABELS, response)
        return response

    def _count(self, labels: RouteLabels, response: ModelOnexEnvelope) -> None:
        outcome = response.error.code if response.error else "success"
        self.metrics.count_envelope(labels.node, labels.handler, labels.operation, outcome)
