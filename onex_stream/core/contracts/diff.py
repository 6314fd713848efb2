"""Breaking-change diff of runtime host contracts (with their nodes) and node contracts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum

from onex_stream.core.contracts.field_types import is_subtype, parse_type
from onex_stream.core.contracts.node_contract import ModelDataModelSpec, ModelNodeContract
from onex_stream.core.contracts.runtime_contract import ModelRuntimeHostContract


class EnumChangeKind(StrEnum):
    """What changed between two contracts."""

    TOPIC_REMOVED = "topic_removed"
    TOPIC_ADDED = "topic_added"
    HANDLER_REMOVED = "handler_removed"
    HANDLER_ADDED = "handler_added"
    NODE_REMOVED = "node_removed"
    NODE_ADDED = "node_added"
    OPERATION_REMOVED = "operation_removed"
    OPERATION_ADDED = "operation_added"
    REQUIRED_FIELD_ADDED = "required_field_added"
    FIELD_ADDED = "field_added"
    FIELD_REMOVED = "field_removed"
    FIELD_MADE_OPTIONAL = "field_made_optional"
    TYPE_NARROWED = "type_narrowed"
    TYPE_WIDENED = "type_widened"
    TYPE_CHANGED = "type_changed"


@dataclass(frozen=True, slots=True)
class ContractChange:
    """One change: its kind, where it is, whether it breaks senders or receivers."""

    kind: EnumChangeKind
    location: str
    breaking: bool
    detail: str

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready mapping (kind as its string value)."""
        return {**asdict(self), "kind": self.kind.value}


_Kind = EnumChangeKind
_TOPIC_ROLES = ("command", "event", "dead-letter")


def is_breaking(changes: Sequence[ContractChange]) -> bool:
    """Whether any change breaks the published API."""
    return any(change.breaking for change in changes)


def diff_hosts(
    old: ModelRuntimeHostContract,
    old_nodes: Sequence[ModelNodeContract],
    new: ModelRuntimeHostContract,
    new_nodes: Sequence[ModelNodeContract],
) -> list[ContractChange]:
    """Changes from ``old`` to ``new``: topics, handlers, nodes and each node's contract."""
    changes: list[ContractChange] = []
    old_topics, new_topics = _topics(old), _topics(new)
    for role in _TOPIC_ROLES:
        changes += _set_changes(
            old_topics[role],
            new_topics[role],
            (_Kind.TOPIC_REMOVED, _Kind.TOPIC_ADDED),
            "runtime.event_bus.subscriptions",
            f"{role} topic",
        )
    changes += _set_changes(
        {h.type.value for h in old.runtime.handlers if h.enabled},
        {h.type.value for h in new.runtime.handlers if h.enabled},
        (_Kind.HANDLER_REMOVED, _Kind.HANDLER_ADDED),
        "runtime.handlers",
        "handler",
    )
    old_by_name = {node.name: node for node in old_nodes}
    new_by_name = {node.name: node for node in new_nodes}
    changes += _set_changes(
        set(old_by_name),
        set(new_by_name),
        (_Kind.NODE_REMOVED, _Kind.NODE_ADDED),
        "runtime.nodes",
        "node",
    )
    for name in sorted(old_by_name.keys() & new_by_name.keys()):
        changes += diff_nodes(old_by_name[name], new_by_name[name], prefix=f"nodes.{name}.")
    return changes


def diff_nodes(
    old: ModelNodeContract, new: ModelNodeContract, *, prefix: str = ""
) -> list[ContractChange]:
    """Changes of one node: operations, and its input and output model fields."""
    changes: list[ContractChange] = []
    for handler_type in sorted({io.type.value for io in (*old.io_operations, *new.io_operations)}):
        changes += _set_changes(
            {
                op
                for io in old.io_operations
                if io.type.value == handler_type
                for op in io.operations
            },
            {
                op
                for io in new.io_operations
                if io.type.value == handler_type
                for op in io.operations
            },
            (_Kind.OPERATION_REMOVED, _Kind.OPERATION_ADDED),
            f"{prefix}io_operations.{handler_type}",
            "operation",
        )
    changes += _model_changes(old.input_model, new.input_model, f"{prefix}input_model", True)
    changes += _model_changes(old.output_model, new.output_model, f"{prefix}output_model", False)
    return changes


def _topics(contract: ModelRuntimeHostContract) -> dict[str, set[str]]:
    subscriptions = contract.runtime.subscriptions
    return {
        "command": {s.input for s in subscriptions},
        "event": {s.event_topic for s in subscriptions},
        "dead-letter": {s.dead_letter_topic for s in subscriptions},
    }


def _set_changes(
    old: set[str], new: set[str], kinds: tuple[_Kind, _Kind], location: str, what: str
) -> list[ContractChange]:
    removed, added = kinds
    return [
        *(
            ContractChange(removed, location, True, f"{what} '{n}' removed")
            for n in sorted(old - new)
        ),
        *(ContractChange(added, location, False, f"{what} '{n}' added") for n in sorted(new - old)),
    ]


def _model_changes(
    old: ModelDataModelSpec | None, new: ModelDataModelSpec | None, location: str, is_input: bool
) -> list[ContractChange]:
    """Input models break senders when they demand more; output models break receivers
    when they promise less. A model that is not declared counts as no fields."""
    old_fields = {f.name: f for f in (old.fields if old else [])}
    new_fields = {f.name: f for f in (new.fields if new else [])}
    changes = []
    for name in sorted(old_fields.keys() | new_fields.keys()):
        where = f"{location}.fields.{name}"
        before, after = old_fields.get(name), new_fields.get(name)
        if before is None and after is not None:
            required = is_input and after.required
            kind = _Kind.REQUIRED_FIELD_ADDED if required else _Kind.FIELD_ADDED
            changes.append(ContractChange(kind, where, required, f"field '{name}' added"))
        elif after is None and before is not None:
            changes.append(
                ContractChange(_Kind.FIELD_REMOVED, where, not is_input, f"field '{name}' removed")
            )
        elif before is not None and after is not None:
            if after.required and not before.required and is_input:
                detail = f"field '{name}' is now required"
                changes.append(ContractChange(_Kind.REQUIRED_FIELD_ADDED, where, True, detail))
            elif before.required and not after.required:
                detail = f"field '{name}' is no longer required"
                changes.append(
                    ContractChange(_Kind.FIELD_MADE_OPTIONAL, where, not is_input, detail)
                )
            changes += _type_change(before.type, after.type, where, is_input)
    return changes


def _type_change(before: str, after: str, where: str, is_input: bool) -> list[ContractChange]:
    old_type, new_type = parse_type(before), parse_type(after)
    narrower, wider = is_subtype(new_type, old_type), is_subtype(old_type, new_type)
    if narrower and wider:
        return []
    detail = f"type '{before}' -> '{after}'"
    if narrower:
        return [ContractChange(_Kind.TYPE_NARROWED, where, is_input, detail)]
    if wider:
        return [ContractChange(_Kind.TYPE_WIDENED, where, not is_input, detail)]
    return [ContractChange(_Kind.TYPE_CHANGED, where, True, detail)]
