"""Turns pydantic validation errors into located findings with a hint and an action."""

from __future__ import annotations

import types
import typing
from enum import Enum
from typing import Any

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from onex_stream.core.contracts.yaml_source import Path_, YamlDocument
from onex_stream.core.errors import ContractValidationError


def findings_from(
    error: ValidationError, model: type[BaseModel], document: YamlDocument
) -> list[ContractValidationError]:
    """One located ``ContractValidationError`` per pydantic error."""
    return [_finding(detail, model, document) for detail in error.errors()]


def _finding(
    detail: ErrorDetails, model: type[BaseModel], document: YamlDocument
) -> ContractValidationError:
    path: Path_ = tuple(p for p in detail["loc"] if not _is_union_tag(p))
    dotted = ".".join(map(str, path)) or "<root>"
    kind = detail["type"]
    if kind == "missing":
        parent = _model_at(model, path[:-1])
        required = _required_fields(parent) if parent else []
        return document.error(
            path,
            f"Missing required field '{dotted}'",
            f"Required fields here: {', '.join(required)}" if required else detail["msg"],
            f"Add '{path[-1]}' to the contract",
        )
    if kind == "extra_forbidden":
        parent = _model_at(model, path[:-1])
        valid = list(parent.model_fields) if parent else []
        return document.error(
            path,
            f"Unknown field '{dotted}'",
            f"Valid fields here are: {', '.join(valid)}",
            "Remove or rename the field",
        )
    if kind == "enum":
        expected = detail.get("ctx", {}).get("expected", "").replace("'", "")
        what = "handler type" if path and path[-1] == "type" else f"value for '{dotted}'"
        hint = f"Valid {what + 's' if what == 'handler type' else 'values'} are: {expected}"
        if str(detail["input"]).lower() == "kafka":
            hint += " (Kafka is the event bus, not a handler: see runtime.event_bus.kind)"
        return document.error(
            path,
            f"Unknown {what} {detail['input']!r}",
            hint,
            f"Remove or replace the invalid {what}",
        )
    return document.error(
        path,
        f"Invalid value for '{dotted}': {detail['msg']}",
        _describe_field(model, path),
        "Correct the value",
    )


def _is_union_tag(part: str | int) -> bool:
    return isinstance(part, str) and "[" in part


def _model_at(model: type[BaseModel], path: Path_) -> type[BaseModel] | None:
    current: Any = model
    for part in path:
        if isinstance(part, int):
            current = _item_type(current)
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        info = current.model_fields.get(part)
        if info is None:
            return None
        current = _unwrap(info.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        return _unwrap(args[0])
    return annotation


def _item_type(annotation: Any) -> Any:
    args = typing.get_args(_unwrap(annotation))
    return _unwrap(args[0]) if args else None


def _required_fields(model: type[BaseModel]) -> list[str]:
    return [name for name, info in model.model_fields.items() if info.is_required()]


def _describe_field(model: type[BaseModel], path: Path_) -> str:
    parent = _model_at(model, path[:-1]) if path else None
    if parent is None or not isinstance(path[-1], str):
        return "See the contract format in the README"
    info = parent.model_fields.get(path[-1])
    annotation = _unwrap(info.annotation) if info else None
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return f"Valid values are: {', '.join(str(m.value) for m in annotation)}"
    if info is not None and info.metadata:
        return f"Constraints: {', '.join(map(str, info.metadata))}"
    return f"Expected type: {getattr(annotation, '__name__', annotation)}"
