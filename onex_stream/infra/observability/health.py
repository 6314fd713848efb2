"""Liveness, readiness and handler health of a running host."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from onex_stream.infra.observability.lag import LagMonitor
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
    """Computes health from the host's handlers, its event bus's health snapshot and the
    age of the offsets the lag monitor reads from the broker."""

    def __init__(self, host: RuntimeHost, lag: LagMonitor | None = None) -> None:
        self.host = host
        self.lag = lag
        self.started_at = time.monotonic()

    def liveness(self) -> dict[str, Any]:
        """Answering at all proves the process and its event loop run."""
        return {"live": True, "uptime_seconds": round(time.monotonic() - self.started_at, 1)}

    async def handlers(self) -> dict[str, Any]:
        """Every handler's ``health_check()``."""
        report: dict[str, Any] = (await self.host.runtime.health_check())["handlers"]
        return report

    async def readiness(self) -> HealthReport:
        """Ready when handlers are healthy, partitions are assigned and consuming, and the
        broker answers.

        A handler whose circuit breaker is open is listed under ``degraded`` but keeps the
        worker ready: the other nodes' traffic keeps flowing, its own calls get CIRCUIT_OPEN.
        A broker that has not answered the lag monitor's offset reads for
        ``STALE_AFTER_REFRESHES`` refresh intervals makes the worker unready (it cannot
        fetch or commit either); the first answer after recovery makes it ready again.
        """
        handlers = await self.handlers()
        degraded = sorted(name for name, h in handlers.items() if h.get("degraded"))
        reasons = [
            f"handler {name} unhealthy"
            for name, h in handlers.items()
            if not h.get("healthy") and name not in degraded
        ]
        bus = self.host.bus.health()
        if self.lag is not None and self.lag.stale():
            reasons.append(
                f"broker unreachable: no answer from {bus.broker} for {self.lag.age():.0f} s"
            )
        if not bus.assigned_partitions:
            reasons.append("no partitions assigned")
        elif bus.rebalancing:
            reasons.append("rebalancing")
        elif not bus.consuming:
            reasons.append("consumption paused")
        return HealthReport(not reasons, reasons, handlers, bus.assigned_partitions, degraded)
