"""Liveness, readiness and handler health of a running host."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import faust
from faust.exceptions import ConsumerNotStarted

from onex_stream.infra.runtime.host import RuntimeHost


@dataclass
class HealthReport:
    """Whether the host may receive traffic, and why not."""

    ready: bool
    reasons: list[str] = field(default_factory=list)
    handlers: dict[str, Any] = field(default_factory=dict)
    assigned_partitions: int = 0

    def as_json(self) -> dict[str, Any]:
        """The report as the ``/health/ready`` body."""
        return {
            "ready": self.ready,
            "reasons": self.reasons,
            "assigned_partitions": self.assigned_partitions,
            "handlers": self.handlers,
        }


class HostHealth:
    """Computes health from the host's handlers and the Faust app's consumer."""

    def __init__(self, host: RuntimeHost, app: faust.App) -> None:
        self.host = host
        self.app = app
        self.started_at = time.monotonic()

    def liveness(self) -> dict[str, Any]:
        """Answering at all proves the process and its event loop run."""
        return {"live": True, "uptime_seconds": round(time.monotonic() - self.started_at, 1)}

    async def handlers(self) -> dict[str, Any]:
        """Every handler's ``health_check()``."""
        report: dict[str, Any] = (await self.host.runtime.health_check())["handlers"]
        return report

    async def readiness(self) -> HealthReport:
        """Ready when handlers are healthy and partitions are assigned and consuming."""
        handlers = await self.handlers()
        reasons = [
            f"handler {name} unhealthy" for name, h in handlers.items() if not h.get("healthy")
        ]
        assigned = self.assigned_partitions()
        if not assigned:
            reasons.append("no partitions assigned")
        elif self.app.rebalancing:
            reasons.append("rebalancing")
        elif not getattr(self.app.consumer, "flow_active", True):
            reasons.append("consumption paused")
        return HealthReport(not reasons, reasons, handlers, assigned)

    def assigned_partitions(self) -> int:
        """Partitions this worker holds (0 before the consumer started)."""
        try:
            return len(self.app.consumer.assignment())
        except ConsumerNotStarted:
            return 0
