"""Wiring: the single source of truth for handler and event bus classes.

Every production handler class and event bus class is listed here and nowhere
else; the runtime host instantiates handlers only through
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
from onex_stream.infra.event_bus.faust_bus import FaustEventBus
from onex_stream.infra.handlers.db import DbHandler
from onex_stream.infra.handlers.http import HttpHandler

HandlerClass = type[HandlerPort]

HANDLER_REGISTRY: dict[EnumHandlerType, HandlerClass] = {
    EnumHandlerType.HTTP: HttpHandler,
    EnumHandlerType.DB: DbHandler,
}

EVENT_BUS_REGISTRY: dict[str, type[FaustEventBus]] = {
    "inmemory": FaustEventBus,
    "kafka": FaustEventBus,
}


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


def get_event_bus_class(kind: str) -> type[FaustEventBus]:
    """The event bus class for ``event_bus.kind``."""
    if kind not in EVENT_BUS_REGISTRY:
        raise HandlerConfigurationError(
            f"unknown event bus kind '{kind}' (available: {', '.join(EVENT_BUS_REGISTRY)})"
        )
    return EVENT_BUS_REGISTRY[kind]


def register_handlers_from_config(
    runtime: NodeRuntime,
    bindings: Sequence[ModelHandlerBindingConfig],
    extra: Mapping[EnumHandlerType, HandlerClass] | None = None,
    wrap: Callable[[HandlerPort], HandlerPort] | None = None,
) -> dict[EnumHandlerType, dict[str, Any]]:
    """Instantiate and register every enabled handler; returns their init configs.

    ``wrap`` decorates each handler (instrumentation). Duplicate types are refused
    by ``NodeRuntime.register_handler``.
    """
    configs: dict[EnumHandlerType, dict[str, Any]] = {}
    for binding in bindings:
        if not binding.enabled:
            continue
        handler = get_handler_class(binding.type, extra)()
        runtime.register_handler(wrap(handler) if wrap else handler)
        configs[binding.type] = binding.config.handler_settings()
    return configs
