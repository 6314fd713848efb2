"""RuntimeHost: the runtime host process (NodeRuntime driven by an event bus)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any
from uuid import UUID

from onex_stream.core.contracts import HostDefinition
from onex_stream.core.contracts.idempotency import idempotent_nodes
from onex_stream.core.contracts.locations import handler_location
from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.errors import EnvelopeValidationError, HostStartError, RuntimeHostError
from onex_stream.core.runtime import UNKNOWN_LABELS, NodeRuntime, RouteLabels
from onex_stream.infra.observability.log_context import envelope_context
from onex_stream.infra.observability.metrics import HostMetrics
from onex_stream.infra.runtime import host_slot
from onex_stream.infra.runtime.compatibility import (
    Versions,
    check_versions,
    describe,
    installed_versions,
)
from onex_stream.infra.runtime.handler_start import initialize_handlers
from onex_stream.spi import ProtocolEventBus

logger = logging.getLogger(__name__)


class RuntimeHost:
    """Owns the NodeRuntime and the event bus; the seeds' BaseRuntimeHostProcess.

    It subscribes every command topic of the contract, is the only component
    that assigns a correlation_id (when a command has none), initializes the
    handlers once before consumption and shuts them down exactly once after it.
    Its start first logs the dependency versions and refuses any outside the
    compatibility matrix (``preflight``); one host runs per process (``host_slot``).
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
        #: where ``preflight`` reads the dependency versions (tests inject their own)
        self.versions: Callable[[], Versions] = installed_versions
        refs = definition.contract.runtime.nodes
        #: nodes whose answers are remembered by envelope_id (a replay is not run again)
        self.idempotent_nodes = idempotent_nodes(
            definition.nodes, {ref.slug: ref.idempotent for ref in refs}
        )
        self._only_node = refs[0].slug if len(refs) == 1 else None
        remember = self.is_idempotent if self.idempotent_nodes else None
        for subscription in definition.contract.runtime.subscriptions:
            bus.subscribe(subscription.input, self.handle, self.handle_invalid, remember)
        bus.add_lifecycle_hooks(on_start=self.preflight, first=True)  # before topics too
        bus.add_lifecycle_hooks(on_start=self.start, on_ready=self.ready, on_stop=self.stop)

    @property
    def command_topics(self) -> list[str]:
        """The command topics this host consumes."""
        return [s.input for s in self.definition.contract.runtime.subscriptions]

    async def preflight(self) -> None:
        """Log the resolved dependency versions (one line) and refuse, with one line, a
        version outside the compatibility matrix: the first start step, before topics are
        prepared or handlers initialized."""
        versions = self.versions()
        logger.info("Versions: %s", describe(versions), extra={"versions": dict(versions)})
        check_versions(versions)

    async def start(self) -> None:
        """Take the process's host slot, then initialize every handler once (before
        consumption starts): vault first, then the others with their ``vault:`` references
        resolved (``initialize_handlers``).

        A second host started while one runs in the process, or a handler that fails,
        raises :class:`HostStartError` (the latter naming the handler and its line in the
        contract). A failed start gives the slot back.
        """
        if self._started:
            return
        host_slot.claim(self, self.runtime.name, str(self.definition.path))
        self._started = True
        try:
            await initialize_handlers(self.runtime, self._handler_configs)
        except RuntimeHostError as error:
            host_slot.release(self)
            where = handler_location(self.definition.document, error.handler_type)
            handler = f"the {error.handler_type} handler" if error.handler_type else "a handler"
            message = f"{where}: {handler} failed to initialize: {error.message}"
            raise HostStartError(message, error) from None
        except BaseException:
            host_slot.release(self)
            raise

    async def ready(self) -> None:
        """Log that the host consumes its topics."""
        logger.info("RuntimeHost ready. Listening on topic(s): %s", ", ".join(self.command_topics))

    async def stop(self) -> None:
        """Shut every handler down exactly once (after consumption stopped), then give
        the process's host slot back."""
        try:
            await self.runtime.shutdown()
        finally:
            host_slot.release(self)
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

    def is_idempotent(self, envelope: ModelOnexEnvelope) -> bool:
        """Whether ``envelope`` targets an idempotent node (its target, or the only node)."""
        return (envelope.target_node or self._only_node) in self.idempotent_nodes

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
