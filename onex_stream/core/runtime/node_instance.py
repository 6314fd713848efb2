"""NodeInstance: a hosted node, enforcing what its contract allows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from onex_stream.core.contracts.node_contract import ModelNodeContract
from onex_stream.core.enums import EnumNodeKind
from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.errors import OperationNotAllowedError
from onex_stream.core.ports import HandlerResult

if TYPE_CHECKING:
    from onex_stream.core.runtime.node_runtime import NodeRuntime


class NodeInstance:
    """A node of the runtime: pure logic, no I/O.

    It checks that the envelope's operation is declared by the node contract and
    delegates execution to ``NodeRuntime.execute_with_handler``, which owns the
    handlers. The node never touches a transport or a handler directly.
    """

    def __init__(self, contract: ModelNodeContract, runtime: NodeRuntime) -> None:
        self._contract = contract
        self._runtime = runtime

    @property
    def slug(self) -> str:
        """The node's slug (its contract name)."""
        return self._contract.name

    @property
    def node_type(self) -> EnumNodeKind:
        """EFFECT, COMPUTE, REDUCER or ORCHESTRATOR."""
        return self._contract.node_type

    @property
    def contract(self) -> ModelNodeContract:
        """The node contract."""
        return self._contract

    async def handle(self, envelope: ModelOnexEnvelope) -> HandlerResult:
        """Execute an envelope the runtime routed here; returns the response payload."""
        assert envelope.handler_type is not None and envelope.operation is not None
        if not self._contract.allows(envelope.handler_type, envelope.operation):
            raise OperationNotAllowedError(
                f"node '{self.slug}' does not declare operation '{envelope.operation}'",
                correlation_id=envelope.correlation_id,
                handler_type=envelope.handler_type.value,
                operation=envelope.operation,
                details={"declared_operations": self._contract.declared_operations()},
            )
        return await self._runtime.execute_with_handler(envelope)
