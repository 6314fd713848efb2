"""Installs observability on a host: logging, metrics refresh, lag monitor, web pages."""

from __future__ import annotations

import logging
from typing import Literal

from faust.types import TP

from onex_stream.infra.event_bus.faust_bus import FaustEventBus
from onex_stream.infra.event_bus.memory import get_broker
from onex_stream.infra.observability.health import HostHealth
from onex_stream.infra.observability.lag import (
    KafkaOffsets,
    LagMonitor,
    MemoryOffsets,
    OffsetSource,
)
from onex_stream.infra.observability.logging_setup import configure_logging
from onex_stream.infra.observability.metrics import HostMetrics
from onex_stream.infra.observability.status_page import StatusPage
from onex_stream.infra.observability.web import add_health_pages, add_metrics_page
from onex_stream.infra.runtime.host import RuntimeHost

logger = logging.getLogger(__name__)


def install_observability(
    host: RuntimeHost,
    bus: FaustEventBus,
    metrics: HostMetrics,
    *,
    logs: Literal["json", "human", "as-is"] = "json",
) -> None:
    """Wire logs, the periodic refresh of lag and handler gauges, and the enabled pages."""
    runtime = host.definition.contract.runtime
    app = bus.app
    lag = LagMonitor(_offset_source(bus), metrics, runtime.consumer_group)
    health = HostHealth(host, app)
    commands = {s.input for s in runtime.subscriptions}

    async def configure_logs() -> None:
        if logs != "as-is":
            configure_logging(runtime.name, human=logs == "human")

    async def refresh() -> None:
        try:
            assigned = [(tp.topic, tp.partition) for tp in _assignment(health)]
            await lag.refresh(tp for tp in assigned if tp[0] in commands)
            for name, report in (await health.handlers()).items():
                metrics.handler_up.labels(name).set(1 if report.get("healthy") else 0)
        except Exception:  # a gauge refresh must never stop the worker
            logger.exception("metrics refresh failed; gauges keep their last values")

    async def close() -> None:
        await lag.source.close()

    app.startup_hooks.insert(0, configure_logs)
    app.ready_hooks.append(refresh)
    app.shutdown_hooks.append(close)
    app.timer(runtime.metrics.refresh_seconds)(refresh)
    metrics.track_in_flight(bus.in_flight)
    if runtime.metrics.enabled:
        add_metrics_page(app, metrics)
    if runtime.health.enabled:
        add_health_pages(app, health, StatusPage(runtime.name, metrics.registry, lag))


def _assignment(health: HostHealth) -> set[TP]:
    return set(health.app.consumer.assignment()) if health.assigned_partitions() else set()


def _offset_source(bus: FaustEventBus) -> OffsetSource:
    settings = bus.settings
    if settings.broker_url.startswith("memory"):
        return MemoryOffsets(get_broker(settings.broker_url))
    return KafkaOffsets(settings.bootstrap_servers, settings.admin_auth)
