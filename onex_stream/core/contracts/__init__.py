"""Runtime host and node contracts: models, strict YAML loading, linting, registry."""

from onex_stream.core.contracts.event_bus import (
    ModelEventBusConfig,
    ModelEventBusSettings,
    ModelKafkaSecurity,
    ModelSubscription,
)
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
    ModelNodeRef,
    ModelRuntimeHostContract,
    ModelRuntimeSection,
)

__all__ = [
    "ContractReport",
    "FileRegistry",
    "HostDefinition",
    "ModelCircuitBreaker",
    "ModelEventBusConfig",
    "ModelEventBusSettings",
    "ModelHandlerBindingConfig",
    "ModelHandlerConfig",
    "ModelIoOperation",
    "ModelKafkaSecurity",
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
