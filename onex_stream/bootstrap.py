"""Bootstrap: builds a runtime host from a contract file (the one wiring entry)."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from enum import StrEnum
from pathlib import Path
from typing import Literal

import faust

from onex_stream.core.clock import Clock, IdFactory, random_ids, system_clock
from onex_stream.core.contracts import (
    FileRegistry,
    ModelHandlerBindingConfig,
)
from onex_stream.core.contracts.locations import key_location
from onex_stream.core.contracts.startable import check_startable
from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.errors import HandlerConfigurationError
from onex_stream.core.ports import HandlerPort
from onex_stream.core.responses import ResponseFactory
from onex_stream.core.runtime import NodeRuntime
from onex_stream.infra.event_bus.faust_app import HostApp
from onex_stream.infra.event_bus.faust_bus import FaustEventBus
from onex_stream.infra.event_bus.settings import BusSettings
from onex_stream.infra.handlers.policies import with_policies
from onex_stream.infra.observability.install import install_observability
from onex_stream.infra.observability.instrumented_handler import InstrumentedHandler
from onex_stream.infra.observability.metrics import HostMetrics
from onex_stream.infra.runtime.host import RuntimeHost
from onex_stream.infra.runtime.wiring import (
    HANDLER_REGISTRY,
    HandlerClass,
    get_transport,
    register_handlers_from_config,
)
from onex_stream.infra.secrets import SecretResolver

logger = logging.getLogger("onex_stream.host")


class EnumOnexEnv(StrEnum):
    """``ONEX_ENV``: dev and test allow the local handler; prod (the default) does not."""

    DEV = "dev"
    TEST = "test"
    PROD = "prod"


LogFormat = Literal["json", "human", "as-is"]


def log_format(env: Mapping[str, str]) -> LogFormat:
    """``ONEX_LOG_FORMAT``: json (default) or human."""
    return "human" if env.get("ONEX_LOG_FORMAT", "json").lower() == "human" else "json"


def onex_env(env: Mapping[str, str]) -> EnumOnexEnv:
    """The environment named by ``ONEX_ENV`` (default prod); unknown values fail."""
    value = env.get("ONEX_ENV", "prod").lower()
    try:
        return EnumOnexEnv(value)
    except ValueError:
        raise HandlerConfigurationError(
            f"ONEX_ENV={value!r} is not one of dev, test, prod"
        ) from None


def build_host(
    contract_path: Path | str,
    *,
    env: Mapping[str, str] | None = None,
    ids: IdFactory = random_ids,
    clock: Clock = system_clock,
    extra_handlers: Mapping[EnumHandlerType, HandlerClass] | None = None,
    bus_overrides: Mapping[str, object] | None = None,
    logs: LogFormat | None = None,
) -> RuntimeHost:
    """Load the contract, wire handlers and nodes, and build the host and its bus.

    Raises ``ContractValidationError`` or ``HandlerConfigurationError`` (fail fast)
    on a bad contract, an unknown handler type or a local handler outside dev/test.
    ``logs``: JSON lines (default, or ``ONEX_LOG_FORMAT``), human, or "as-is" to
    leave the process's logging alone (in-process tests and benchmarks).
    """
    env = os.environ if env is None else env
    stage = onex_env(env)
    logger.info("RuntimeHost initializing... (ONEX_ENV=%s)", stage.value)
    logger.info("Loading contract: %s", contract_path)
    definition = FileRegistry(env).load_host(contract_path)
    for warning in definition.warnings:
        logger.warning("contract: %s", warning)
    implemented = {*HANDLER_REGISTRY, *(extra_handlers or {})}
    refusals = check_startable(definition, stage.value, implemented)
    if refusals:  # the validator reports them all; a start stops at the first
        first = refusals[0].error
        raise HandlerConfigurationError(f"{first.location}: {first.error}")
    runtime_section = definition.contract.runtime
    classes = dict(_dev_handlers(definition.contract.runtime.handlers, stage))
    classes.update(extra_handlers or {})
    runtime = NodeRuntime(runtime_section.name, ResponseFactory(ids, clock))
    metrics = HostMetrics()

    def instrumented(handler: HandlerPort, binding: ModelHandlerBindingConfig) -> HandlerPort:
        # the latency histogram times what callers see: retries and rate-limit waits included
        logger.info("Registering handler: %s", type(handler).__name__)
        return InstrumentedHandler(with_policies(handler, binding, metrics), metrics)

    configs = register_handlers_from_config(
        runtime, runtime_section.handlers, classes, instrumented, secrets=SecretResolver(env)
    )
    for node in definition.nodes:
        logger.info("Loading node: %s", node.name)
        runtime.register_node(node)
    kind = runtime_section.event_bus.kind
    transport = get_transport(kind)
    origin = key_location(definition.document, ("runtime", "event_bus"))
    overrides = {"origin": origin, **(bus_overrides or {})}
    settings = BusSettings.from_runtime(runtime_section, env, transport, **overrides)
    logger.info("Starting event bus: %s (%s)", kind, settings.broker_url)
    bus = FaustEventBus(settings, metrics)
    host = RuntimeHost(definition, runtime, configs, bus, metrics)
    install_observability(host, metrics, logs=logs or log_format(env))
    return host


def faust_app(host: RuntimeHost) -> faust.App:
    """The Faust app that runs ``host`` (what ``faust -A onex_stream worker`` starts)."""
    app: faust.App = host.bus.worker_app()
    return app


def worker_process_app(host: RuntimeHost) -> faust.App:
    """``faust_app`` for a worker process of its own: its stop is bounded by a deadline
    that ends the process, and its start-up objects are frozen out of the garbage
    collector's passes (never used in-process, e.g. in tests)."""
    app: HostApp = host.bus.worker_app()
    app.owns_process = True
    return app


def _dev_handlers(
    bindings: Sequence[ModelHandlerBindingConfig], stage: EnumOnexEnv
) -> Mapping[EnumHandlerType, HandlerClass]:
    wants_local = any(b.type is EnumHandlerType.LOCAL and b.enabled for b in bindings)
    if not wants_local or stage is EnumOnexEnv.PROD:  # prod: refused by check_startable
        return {}
    from onex_stream.dev import DEV_HANDLERS  # noqa: PLC0415 -- only when dev/test allows

    logger.warning("ONEX_ENV=%s: the dev/test-only local handler is enabled", stage.value)
    return DEV_HANDLERS
