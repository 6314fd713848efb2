"""Runtime host and node contracts: models, strict YAML loading, linting, registry."""

from onex_stream.core.contracts.handler_binding import (
    ModelCircuitBreaker,
    ModelHandlerBindingConfig,
    ModelHandlerConfig,
    ModelRetryPolicy,
)
from onex_stream.core.contracts.loader import (
    ContractReport,
    check_node_contract,
    check_runtime_contract,
    load_node_contract,
    load_runtime_contract,
)
from onex_stream.core.contracts.node_contract import ModelIoOperation, ModelNodeContract
from onex_stream.core.contracts.registry import FileRegistry, HostDefinition
from onex_stream.core.contracts.runtime_contract import (
    ModelEventBusConfig,
    ModelNodeRef,
    ModelRuntimeHostContract,
    ModelRuntimeSection,
    ModelSubscription,
)

__all__ = [
    "ContractReport",
    "FileRegistry",
    "HostDefinition",
    "ModelCircuitBreaker",
    "ModelEventBusConfig",
    "ModelHandlerBindingConfig",
    "ModelHandlerConfig",
    "ModelIoOperation",
    "ModelNodeContract",
    "ModelNodeRef",
    "ModelRetryPolicy",
    "ModelRuntimeHostContract",
    "ModelRuntimeSection",
    "ModelSubscription",
    "check_node_contract",
    "check_runtime_contract",
    "load_node_contract",
    "load_runtime_contract",
]
