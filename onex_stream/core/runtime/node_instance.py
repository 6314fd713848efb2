"""NodeInstance: a hosted node, held by NodeRuntime (its contract, no behaviour)."""

from __future__ import annotations

from dataclasses import dataclass

from onex_stream.core.contracts.node_contract import ModelNodeContract
from onex_stream.core.enums import EnumNodeKind


@dataclass(frozen=True, slots=True)
class NodeInstance:
    """A node of the runtime: pure data, no I/O and no reference to the runtime.

    NodeRuntime checks envelopes against ``contract`` and runs them on its handlers;
    the node never touches a transport or a handler.
    """

    contract: ModelNodeContract

    @property
    def slug(self) -> str:
        """The node's slug (its contract name)."""
        return self.contract.name

    @property
    def node_type(self) -> EnumNodeKind:
        """EFFECT, COMPUTE, REDUCER or ORCHESTRATOR."""
        return self.contract.node_type
