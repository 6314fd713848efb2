"""AsyncAPI messages and schemas of the host: envelopes, per-node envelopes, dead letters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from onex_stream.core.contracts.field_types import model_schema
from onex_stream.core.contracts.node_contract import ModelDataModelSpec, ModelNodeContract
from onex_stream.core.envelope import ModelOnexEnvelope

KAFKA_BINDING_VERSION = "0.5.0"
SCHEMAS = "#/components/schemas/"
ENVELOPE = "ModelOnexEnvelope"
#: The ``onex-dlq-*`` headers of a dead letter (see ``infra/event_bus/records.py``).
DEAD_LETTER_HEADERS = {
    "onex-dlq-reason": "why the record is not an envelope, or why it was not answered",
    "onex-dlq-error-code": "the error code (ENVELOPE_VALIDATION_ERROR, EVENT_BUS_ERROR...)",
    "onex-dlq-topic": "the topic the record was consumed from",
    "onex-dlq-partition": "its partition (decimal)",
    "onex-dlq-offset": "its offset (decimal)",
    "onex-dlq-truncated": "'true' when the value (and key) were cut to fit the record limit",
    "onex-dlq-original-size": "when truncated: the original value's size in bytes",
    "onex-dlq-original-key-size": "when truncated: the original key's size in bytes",
    "onex-dlq-sha256": "when truncated: hex SHA-256 of the original value",
}
_ALWAYS_SET = ["onex-dlq-reason", "onex-dlq-error-code", "onex-dlq-topic"]
_ALWAYS_SET += ["onex-dlq-partition", "onex-dlq-offset"]
_KEY = {"type": "string", "format": "uuid", "description": "the envelope's correlation_id"}


def envelope_schemas() -> dict[str, Any]:
    """``components.schemas``: the envelope and the schemas it references."""
    schema = ModelOnexEnvelope.model_json_schema(ref_template=SCHEMAS + "{model}")
    definitions = schema.pop("$defs", {})
    return {**definitions, ENVELOPE: schema}


def base_messages() -> dict[str, Any]:
    """The messages of every host: command and event envelopes, and dead letters."""
    key_binding = {"kafka": {"key": _KEY, "bindingVersion": KAFKA_BINDING_VERSION}}
    envelope = {"$ref": SCHEMAS + ENVELOPE}
    return {
        "command": {
            "name": "command",
            "title": "Command envelope",
            "summary": "A command for one of the hosted nodes (is_response: false).",
            "contentType": "application/json",
            "payload": envelope,
            "bindings": key_binding,
        },
        "event": {
            "name": "event",
            "title": "Response envelope",
            "summary": "The answer to a command: same correlation_id, causation_id = its "
            "envelope_id, is_response: true, success and on failure error.",
            "contentType": "application/json",
            "headers": _object(
                {
                    "content-type": {"type": "string", "const": "application/json"},
                    "correlation_id": {"type": "string", "format": "uuid"},
                },
                ["content-type"],
            ),
            "payload": envelope,
            "bindings": key_binding,
        },
        "dead_letter": {
            "name": "dead_letter",
            "title": "Dead letter",
            "summary": "A consumed record that is not an envelope or could not be answered.",
            "contentType": "application/octet-stream",
            "headers": _object(
                {
                    name: {"type": "string", "description": d}
                    for name, d in DEAD_LETTER_HEADERS.items()
                },
                _ALWAYS_SET,
            ),
            "payload": {
                "type": "string",
                "format": "binary",
                "description": "the original record value, byte for byte (its head when "
                "onex-dlq-truncated is 'true')",
            },
            "bindings": {
                "kafka": {
                    "key": {"type": "string", "description": "the original record's key (bytes)"},
                    "bindingVersion": KAFKA_BINDING_VERSION,
                }
            },
        },
    }


def node_schemas(nodes: Sequence[ModelNodeContract]) -> dict[str, Any]:
    """``components.schemas`` of the input and output models the nodes declare."""
    schemas: dict[str, Any] = {}
    for node in nodes:
        for side, spec in (("input", node.input_model), ("output", node.output_model)):
            if spec is not None:
                schemas[f"{node.name}.{side}"] = model_schema(spec)
    return schemas


def node_messages(nodes: Sequence[ModelNodeContract]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Per-node command and event messages: the envelope narrowed to the node."""
    commands, events = {}, {}
    for node in nodes:
        operations = node.declared_operations()
        fields: dict[str, Any] = {"target_node": {"const": node.name}}
        if operations:
            fields["operation"] = {"enum": operations}
        fields["payload"] = _payload(node, "input", node.input_model)
        commands[f"{node.name}.command"] = _node_message(node, "command", fields, ["target_node"])
        answer = {"payload": _payload(node, "output", node.output_model)}
        events[f"{node.name}.event"] = _node_message(node, "event", answer, [])
    return commands, events


def _payload(node: ModelNodeContract, side: str, spec: ModelDataModelSpec | None) -> Any:
    if spec is not None:
        return {"$ref": f"{SCHEMAS}{node.name}.{side}"}
    return {
        "type": "object",
        "description": f"not declared: the node contract has no {side}_model; the handler "
        "operation (handler_type, operation) defines the payload",
    }


def _node_message(
    node: ModelNodeContract, kind: str, fields: dict[str, Any], required: list[str]
) -> dict[str, Any]:
    narrowed = _object(fields, required)
    return {
        "name": f"{node.name}.{kind}",
        "title": f"{node.name} {kind}",
        "summary": f"{node.node_type.value} node {node.name}: {node.description}".strip(": "),
        "contentType": "application/json",
        "payload": {"allOf": [{"$ref": SCHEMAS + ENVELOPE}, narrowed]},
        "bindings": {"kafka": {"key": _KEY, "bindingVersion": KAFKA_BINDING_VERSION}},
    }


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema
