"""Route, RouteLabels and Routed: one envelope's look-ups and the labels they yield."""

from __future__ import annotations

from dataclasses import dataclass

from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.ports import HandlerPort
from onex_stream.core.runtime.node_instance import NodeInstance

#: The label of a node, handler or operation the runtime does not know.
UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class RouteLabels:
    """Bounded metric labels of a routed envelope (``unknown`` for what is not known)."""

    node: str
    handler: str
    operation: str


#: The labels of an envelope that could not be decoded (nothing is known).
UNKNOWN_LABELS = RouteLabels(UNKNOWN, UNKNOWN, UNKNOWN)


@dataclass(frozen=True, slots=True)
class Route:
    """An envelope with its node and handler looked up once (``None`` when absent).

    ``supported`` tells whether ``handler`` supports the envelope's operation.
    """

    envelope: ModelOnexEnvelope
    node: NodeInstance | None
    handler: HandlerPort | None
    supported: bool
    labels: RouteLabels

    @classmethod
    def of(
        cls, envelope: ModelOnexEnvelope, node: NodeInstance | None, handler: HandlerPort | None
    ) -> Route:
        """The route of ``envelope`` to ``node`` and ``handler``, with its labels."""
        operation = envelope.operation
        supported = handler is not None and operation in handler.supported_operations
        labels = RouteLabels(
            node=node.slug if node is not None else UNKNOWN,
            handler=handler.handler_type.value if handler is not None else UNKNOWN,
            operation=operation if operation is not None and supported else UNKNOWN,
        )
        return cls(envelope, node, handler, supported, labels)


@dataclass(frozen=True, slots=True)
class Routed:
    """The response to a routed envelope and the labels of its route."""

    response: ModelOnexEnvelope
    labels: RouteLabels
