"""Liveness, readiness and handler health of a running host."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from onex_stream.infra.runtime.host import RuntimeHost


@dataclass
class HealthReport:
    """Whether the host may receive traffic, and why not."""

    ready: bool
    reasons: list[str] = field(default_factory=list)
    handlers: dict[str, Any] = field(default_factory=dict)
    assigned_partitions: int = 0
    degraded: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The report as the ``/health/ready`` body."""
        return {
            "ready": self.ready,
            "reasons": self.reasons,
            "assigned_partitions": self.assigned_partitions,
            "handlers": self.handlers,
            "degraded": self.degraded,
        }


class HostHealth:
    """Computes health from the host's handlers and its event bus's health snapshot."""

    def __init__(self, host: RuntimeHost) -> None:
        self.host = host
        self.started_at = time.monotonic()

    def liveness(self) -> dict[str, Any]:
        """Answering at all proves the process and its event loop run."""
        return {"live": True, "uptime_seconds": round(time.monotonic() - self.started_at, 1)}

    async def handlers(self) -> dict[str, Any]:
        """Every handler's ``health_check()``."""
        report: dict[str, Any] = (await self.host.runtime.health_check())["handlers"]
        return report

    async def readiness(self) -> HealthReport:
        """Ready when handlers are healthy and partitions are assigned and consuming.

        A handler whose circuit breaker is open is listed under ``degraded`` but keeps the
        worker ready: the other nodes' traffic keeps flowing, its own calls get CIRCUIT_OPEN.
        """
        handlers = await self.handlers()
        degraded = sorted(name for name, h in handlers.items() if h.get("degraded"))
        reasons = [
            f"handler {name} unhealthy" for name, h in handlers.items() if not h.get("healthy")
        ]
        bus = self.host.bus.health()
        if not bus.assigned_partitions:
            reasons.append("no partitions assigned")
        elif bus.rebalancing:
            reasons.append("rebalancing")
        elif not bus.consuming:
            reasons.append("consumption paused")
        return HealthReport(not reasons, reasons, handlers, bus.assigned_partitions, degraded)
