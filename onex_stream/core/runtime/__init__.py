"""The pure, transport-agnostic runtime: NodeRuntime and NodeInstance."""

from onex_stream.core.runtime.node_instance import NodeInstance
from onex_stream.core.runtime.node_runtime import NodeRuntime

__all__ = ["NodeInstance", "NodeRuntime"]
