"""Enumerations shared by every layer: node kinds and handler types."""

from __future__ import annotations

from enum import StrEnum


class EnumNodeKind(StrEnum):
    """Kinds of ONEX nodes; RUNTIME_HOST is the process that hosts the others."""

    EFFECT = "EFFECT"
    COMPUTE = "COMPUTE"
    REDUCER = "REDUCER"
    ORCHESTRATOR = "ORCHESTRATOR"
    RUNTIME_HOST = "RUNTIME_HOST"


class EnumHandlerType(StrEnum):
    """Per-request protocol handlers a runtime host can route operations to.

    Kafka is NOT a handler: it is the event bus (``ProtocolEventBus``) that feeds
    envelopes into the runtime and carries responses back. Handlers perform the
    per-envelope operation (an HTTP call, a SQL statement, a secret read).
    """

    LOCAL = "local"
    HTTP = "http"
    DB = "db"
    VAULT = "vault"
    CONSUL = "consul"
    LLM = "llm"
