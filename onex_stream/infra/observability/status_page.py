"""The built-in ``/status`` page: lag, throughput, handlers and dead letters at a glance."""

from __future__ import annotations

import html
import time
from collections import defaultdict
from typing import Any

from prometheus_client import CollectorRegistry

from onex_stream.infra.observability.lag import LagMonitor

REFRESH_SECONDS = 2


class StatusPage:
    """Renders plain HTML that refreshes itself; rates come from counter deltas."""

    def __init__(self, title: str, registry: CollectorRegistry, lag: LagMonitor) -> None:
        self.title = title
        self.registry = registry
        self.lag = lag
        self._previous: tuple[float, dict[str, float]] | None = None

    def render(self, handlers: dict[str, Any]) -> str:
        """The page, with envelopes/s measured since the previous render."""
        outcomes, letters = self._counters()
        rates = self._rates(outcomes)
        sections = [
            _table(
                "Consumer lag",
                ["topic", "partition", "lag"],
                [[t, str(p), str(lag)] for (t, p), lag in sorted(self.lag.lag.items())],
            ),
            _table(
                "Envelopes by outcome",
                ["outcome", "total", "per second"],
                [[o, f"{n:.0f}", f"{rates.get(o, 0.0):.1f}"] for o, n in sorted(outcomes.items())],
            ),
            _table(
                "Handlers",
                ["handler", "healthy", "details"],
                [
                    [name, str(h.get("healthy")), _details(h)]
                    for name, h in sorted(handlers.items())
                ],
            ),
            _table(
                "Dead letters",
                ["topic", "reason", "total"],
                [[t, r, f"{n:.0f}"] for (t, r), n in sorted(letters.items())],
            ),
        ]
        title = html.escape(self.title)
        return (
            f'<!doctype html><html><head><meta charset="utf-8">'
            f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}">'
            f"<title>{title} status</title><style>{_STYLE}</style></head><body>"
            f"<h1>{title}</h1>{''.join(sections)}</body></html>"
        )

    def _counters(self) -> tuple[dict[str, float], dict[tuple[str, str], float]]:
        outcomes: dict[str, float] = defaultdict(float)
        letters: dict[tuple[str, str], float] = defaultdict(float)
        for metric in self.registry.collect():
            for sample in metric.samples:
                if sample.name == "onex_envelopes_total":
                    outcomes[sample.labels["outcome"]] += sample.value
                elif sample.name == "onex_dead_letters_total":
                    letters[(sample.labels["topic"], sample.labels["reason"])] += sample.value
        return dict(outcomes), dict(letters)

    def _rates(self, outcomes: dict[str, float]) -> dict[str, float]:
        now = time.monotonic()
        previous, self._previous = self._previous, (now, outcomes)
        if previous is None or now <= previous[0]:
            return {}
        elapsed = now - previous[0]
        return {o: (n - previous[1].get(o, 0.0)) / elapsed for o, n in outcomes.items()}


def _details(health: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(health.items()) if k != "healthy")


def _table(title: str, header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = (
        "".join(
            "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
            for row in rows
        )
        or f'<tr><td colspan="{len(header)}">none</td></tr>'
    )
    return f"<h2>{html.escape(title)}</h2><table><tr>{head}</tr>{body}</table>"


_STYLE = (
    "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}"
    "td,th{border:1px solid #ccc;padding:4px 10px;text-align:left}th{background:#eee}"
)
