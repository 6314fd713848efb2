"""The host's pages on the Faust web server: /metrics, /health/*, /status."""

from __future__ import annotations

import faust
from faust.web import Request, Response, View

from onex_stream.infra.observability.health import HostHealth
from onex_stream.infra.observability.metrics import HostMetrics
from onex_stream.infra.observability.status_page import StatusPage


def add_metrics_page(app: faust.App, metrics: HostMetrics) -> None:
    """``/metrics``: OpenMetrics when the scraper's ``Accept`` asks for it (Prometheus
    does), else Prometheus' text format."""

    async def metrics_page(view: View, request: Request) -> Response:
        body, content_type = metrics.render(request.headers.get("Accept", ""))
        # as a header: aiohttp refuses a content_type argument that names a charset
        return view.bytes(body, headers={"Content-Type": content_type})

    app.page("/metrics")(metrics_page)


def add_health_pages(app: faust.App, health: HostHealth, status: StatusPage) -> None:
    """``/health/live``, ``/health/ready`` (503 with reasons), ``/health/handlers``, ``/status``."""

    async def live(view: View, request: Request) -> Response:
        return view.json(health.liveness())

    async def ready(view: View, request: Request) -> Response:
        report = await health.readiness()
        return view.json(report.as_json(), status=200 if report.ready else 503)

    async def handlers(view: View, request: Request) -> Response:
        return view.json(await health.handlers())

    async def status_page(view: View, request: Request) -> Response:
        return view.html(status.render(await health.handlers()))

    app.page("/health/live")(live)
    app.page("/health/ready")(ready)
    app.page("/health/handlers")(handlers)
    app.page("/status")(status_page)
