"""Installs observability on a host: logging, metrics refresh, lag monitor, web pages."""

from __future__ import annotations

import logging
from typing import Literal

from onex_stream.infra.observability.health import HostHealth
from onex_stream.infra.observability.lag import LagMonitor
from onex_stream.infra.observability.logging_setup import configure_logging
from onex_stream.infra.observability.metrics import HostMetrics
from onex_stream.infra.observability.status_page import StatusPage
from onex_stream.infra.observability.web import add_health_pages, add_metrics_page
from onex_stream.infra.runtime.host import RuntimeHost

logger = logging.getLogger(__name__)


def install_observability(
    host: RuntimeHost,
    metrics: HostMetrics,
    *,
    logs: Literal["json", "human", "as-is"] = "json",
) -> None:
    """Wire logs, the periodic refresh of lag and handler gauges, and the enabled pages,
    all through the host's event bus port."""
    runtime = host.definition.contract.runtime
    bus = host.bus
    lag = LagMonitor(
        bus.offset_source(), metrics, runtime.consumer_group, runtime.metrics.refresh_seconds
    )
    health = HostHealth(host, lag)
    commands = {s.input for s in runtime.subscriptions}

    async def configure_logs() -> None:
        if logs != "as-is":
            configure_logging(runtime.name, human=logs == "human")

    async def refresh() -> None:
        try:
            await lag.refresh(tp for tp in bus.assigned_partitions() if tp[0] in commands)
            readiness = await health.readiness()  # runs every handler's health check once
            for name, report in readiness.handlers.items():
                metrics.handler_up.labels(name).set(1 if report.get("healthy") else 0)
            metrics.ready.set(1 if readiness.ready else 0)
        except Exception:  # a gauge refresh must never stop the worker
            metrics.ready.set(0)  # readiness unknown: not ready
            logger.exception("metrics refresh failed; other gauges keep their last values")

    async def close() -> None:
        await lag.source.close()

    bus.add_lifecycle_hooks(on_start=configure_logs, first=True)
    bus.add_lifecycle_hooks(on_ready=refresh, on_stop=close)
    bus.every(runtime.metrics.refresh_seconds, refresh)
    metrics.track_in_flight(bus.in_flight)
    if runtime.metrics.enabled:
        add_metrics_page(bus.worker_app(), metrics)
    if runtime.health.enabled:
        add_health_pages(bus.worker_app(), health, StatusPage(runtime.name, metrics.registry, lag))
