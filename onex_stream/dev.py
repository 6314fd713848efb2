"""Dev/test-only handler classes; only ``bootstrap`` imports this, and only when allowed."""

from __future__ import annotations

from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.handlers.local import LocalHandler
from onex_stream.infra.runtime.wiring import HandlerClass

DEV_HANDLERS: dict[EnumHandlerType, HandlerClass] = {EnumHandlerType.LOCAL: LocalHandler}
