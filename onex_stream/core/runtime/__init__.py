"""The pure, transport-agnostic runtime: NodeRuntime, its nodes and its routes."""

from onex_stream.core.runtime.node_instance import NodeInstance
from onex_stream.core.runtime.node_runtime import NodeRuntime
from onex_stream.core.runtime.route import UNKNOWN_LABELS, Route, Routed, RouteLabels

__all__ = ["UNKNOWN_LABELS", "NodeInstance", "NodeRuntime", "Route", "RouteLabels", "Routed"]
