"""Wiring: the single source of truth for handler classes and transport kinds.

Every production handler class and every transport kind (``event_bus.kind``) is
listed here and nowhere else; the runtime host instantiates handlers only through
``register_handlers_from_config``. Dev/test-only handlers are not listed: a
dev/test entry point passes them as ``extra`` classes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from onex_stream.core.contracts import ModelHandlerBindingConfig
from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.errors import HandlerConfigurationError
from onex_stream.core.ports import HandlerPort
from onex_stream.core.runtime import NodeRuntime
from onex_stream.infra.event_bus.kafka.kind import KAFKA
from onex_stream.infra.event_bus.memory.kind import MEMORY
from onex_stream.infra.event_bus.transport_kind import TransportKind
from onex_stream.infra.handlers.consul import ConsulHandler
from onex_stream.infra.handlers.db import DbHandler
from onex_stream.infra.handlers.http import HttpHandler
from onex_stream.infra.handlers.vault import VaultHandler
from onex_stream.infra.secrets import SecretResolver

HandlerClass = type[HandlerPort]
# decorates a handler (usually with a ``HandlerDecorator``), given its binding's policies
HandlerWrap = Callable[[HandlerPort, ModelHandlerBindingConfig], HandlerPort]

HANDLER_REGISTRY: dict[EnumHandlerType, HandlerClass] = {
    EnumHandlerType.HTTP: HttpHandler,
    EnumHandlerType.DB: DbHandler,
    EnumHandlerType.VAULT: VaultHandler,
    EnumHandlerType.CONSUL: ConsulHandler,
}

TRANSPORT_REGISTRY: dict[str, TransportKind] = {kind.name: kind for kind in (MEMORY, KAFKA)}


def get_handler_class(
    handler_type: EnumHandlerType, extra: Mapping[EnumHandlerType, HandlerClass] | None = None
) -> HandlerClass:
    """The class implementing ``handler_type``; fails naming the available types."""
    classes = {**HANDLER_REGISTRY, **(extra or {})}
    if handler_type not in classes:
        available = ", ".join(sorted(t.value for t in classes)) or "none"
        raise HandlerConfigurationError(
            f"no handler implementation for type '{handler_type.value}' (available: {available})",
            handler_type=handler_type.value,
        )
    return classes[handler_type]


def get_transport(kind: str) -> TransportKind:
    """The transport kind for ``event_bus.kind``."""
    if kind not in TRANSPORT_REGISTRY:
        raise HandlerConfigurationError(
            f"unknown event bus kind '{kind}' (available: {', '.join(TRANSPORT_REGISTRY)})"
        )
    return TRANSPORT_REGISTRY[kind]


def register_handlers_from_config(
    runtime: NodeRuntime,
    bindings: Sequence[ModelHandlerBindingConfig],
    extra: Mapping[EnumHandlerType, HandlerClass] | None = None,
    wrap: HandlerWrap | None = None,
    *,
    secrets: SecretResolver | None = None,
) -> dict[EnumHandlerType, dict[str, Any]]:
    """Instantiate and register every enabled handler; returns their init configs.

    ``wrap`` decorates each handler, given its binding (and so its validated
    ``config``: timeouts, retry and circuit breaker policies). Duplicate types are refused
    by ``NodeRuntime.register_handler``. With ``secrets``, every ``<name>_ref`` of a
    config is resolved into ``<name>`` (a ``SecretResolutionError`` stops the start).
    """
    configs: dict[EnumHandlerType, dict[str, Any]] = {}
    for binding in bindings:
        if not binding.enabled:
            continue
        handler = get_handler_class(binding.type, extra)()
        runtime.register_handler(wrap(handler, binding) if wrap else handler)
        settings = binding.config.handler_settings()
        configs[binding.type] = secrets.resolve_config(settings) if secrets else settings
    return configs
