"""AsyncAPI 3.0.0 document of a runtime host contract: its topics, envelopes, dead letters."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from onex_stream.core.contracts.asyncapi_messages import (
    KAFKA_BINDING_VERSION,
    base_messages,
    envelope_schemas,
    node_messages,
    node_schemas,
)
from onex_stream.core.contracts.node_contract import ModelNodeContract
from onex_stream.core.contracts.runtime_contract import (
    ModelRuntimeHostContract,
    ModelRuntimeSection,
)

ASYNCAPI_VERSION = "3.0.0"
_SASL_SCHEMES = {"PLAIN": "plain", "SCRAM-SHA-256": "scramSha256", "SCRAM-SHA-512": "scramSha512"}


def build_asyncapi(
    contract: ModelRuntimeHostContract, nodes: Sequence[ModelNodeContract] = ()
) -> dict[str, Any]:
    """The AsyncAPI 3.0.0 document of a host: one channel per command, event and
    dead-letter topic; it receives commands and sends events and dead letters."""
    runtime = contract.runtime
    commands, events = node_messages(nodes)
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for subscription in runtime.subscriptions:
        for topic, action, messages, role in (
            (subscription.input, "receive", ["command", *commands], "command"),
            (subscription.event_topic, "send", ["event", *events], "event"),
            (subscription.dead_letter_topic, "send", ["dead_letter"], "dead-letter"),
        ):
            channels.setdefault(topic, _channel(runtime, topic, role, messages))
            operations.setdefault(f"{action}.{topic}", _operation(runtime, topic, action, messages))
    document: dict[str, Any] = {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": runtime.name,
            "version": runtime.version,
            "description": _description(contract),
        },
    }
    servers, security_schemes = _servers(runtime)
    if servers:
        document["servers"] = servers
    document |= {
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": {**envelope_schemas(), **node_schemas(nodes)},
            "messages": {**base_messages(), **commands, **events},
        },
    }
    if security_schemes:
        document["components"]["securitySchemes"] = security_schemes
    return document


def _description(contract: ModelRuntimeHostContract) -> str:
    runtime = contract.runtime
    lines = [runtime.description] if runtime.description else []
    lines.append(
        f"ONEX runtime host '{runtime.name}' (contract schema {contract.schema_version}, "
        f"event bus: {runtime.event_bus.kind}, consumer group: {runtime.consumer_group}). "
        "Generated from the runtime contract by omnibase-runtime-asyncapi."
    )
    return "\n\n".join(lines)


def _channel(
    runtime: ModelRuntimeSection, topic: str, role: str, messages: list[str]
) -> dict[str, Any]:
    return {
        "address": topic,
        "title": f"{role} topic {topic}",
        "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in messages},
        "bindings": {
            "kafka": {
                "topic": topic,
                "partitions": runtime.event_bus.config.partitions,
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
    }


def _operation(
    runtime: ModelRuntimeSection, topic: str, action: str, messages: list[str]
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "action": action,
        "channel": {"$ref": f"#/channels/{topic}"},
        "messages": [{"$ref": f"#/channels/{topic}/messages/{name}"} for name in messages],
    }
    if action == "receive":
        group = {"type": "string", "enum": [runtime.consumer_group]}
        operation["bindings"] = {
            "kafka": {"groupId": group, "bindingVersion": KAFKA_BINDING_VERSION}
        }
    return operation


def _servers(runtime: ModelRuntimeSection) -> tuple[dict[str, Any], dict[str, Any]]:
    settings = runtime.event_bus.config
    if runtime.event_bus.kind != "kafka" or not settings.bootstrap_servers:
        return {}, {}
    security = settings.security
    server: dict[str, Any] = {
        "host": settings.bootstrap_servers,
        "protocol": "kafka-secure" if security.protocol.endswith("SSL") else "kafka",
        "description": f"Kafka bootstrap servers ({security.protocol})",
    }
    schemes: dict[str, Any] = {}
    if security.sasl_mechanism is not None:
        schemes["sasl"] = {
            "type": _SASL_SCHEMES[security.sasl_mechanism],
            "description": f"SASL {security.sasl_mechanism} as user '{security.username}'",
        }
        server["security"] = [{"$ref": "#/components/securitySchemes/sasl"}]
    return {"kafka": server}, schemes
