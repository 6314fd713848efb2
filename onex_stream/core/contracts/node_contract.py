"""ModelNodeContract: a hosted node, its kind and the I/O operations it may use."""

from __future__ import annotations

import re
from functools import cached_property

from pydantic import Field, model_validator

from onex_stream.core.contracts.event_bus import SLUG_PATTERN
from onex_stream.core.contracts.strict import StrictModel
from onex_stream.core.enums import EnumHandlerType, EnumNodeKind
from onex_stream.core.envelope import OPERATION_PATTERN


class ModelFieldSpec(StrictModel):
    """One field of a node's input or output model."""

    name: str
    type: str
    required: bool = False
    description: str = ""


class ModelDataModelSpec(StrictModel):
    """A node's input or output model, by name and fields."""

    name: str
    fields: list[ModelFieldSpec] = Field(default_factory=list)


class ModelIoOperation(StrictModel):
    """Operations of one handler type that a node is allowed to perform."""

    type: EnumHandlerType
    operations: list[str] = Field(min_length=1)
    target: str | None = None

    @model_validator(mode="after")
    def _operations_belong_to_type(self) -> ModelIoOperation:

        for operation in self.operations:
            if not re.match(OPERATION_PATTERN, operation):
                raise ValueError(f"operation {operation!r} must be dotted: '{{domain}}.{{action}}'")
            if not operation.startswith(f"{self.type.value}."):
                raise ValueError(
                    f"operation {operation!r} does not belong to handler type {self.type.value!r}"
                )
        return self


class ModelNodeContract(StrictModel):
    """A node contract file."""

    schema_version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    node_version: str = "1.0.0"
    name: str = Field(pattern=SLUG_PATTERN)
    node_type: EnumNodeKind
    description: str = ""
    input_model: ModelDataModelSpec | None = None
    output_model: ModelDataModelSpec | None = None
    io_operations: list[ModelIoOperation] = Field(default_factory=list)
    dependencies: list[str] = Field(default_factory=list)

    def allows(self, handler_type: EnumHandlerType, operation: str) -> bool:
        """Whether the contract declares ``operation`` for ``handler_type``."""
        return (handler_type, operation) in self._declared

    @cached_property
    def _declared(self) -> frozenset[tuple[EnumHandlerType, str]]:
        """(handler type, operation) pairs declared (looked up per envelope)."""
        return frozenset((io.type, op) for io in self.io_operations for op in io.operations)

    def declared_operations(self) -> list[str]:
        """Every operation the contract declares, in contract order."""
        return [op for io in self.io_operations for op in io.operations]
