"""Helpers shared by the benchmarks (light imports: variant processes measure their RSS)."""

from __future__ import annotations

import json
import statistics
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import faust

REPO = Path(__file__).resolve().parents[2]
COMMAND_TOPIC = "onex.demo.orders.cmd.v1"
EVENT_TOPIC = "onex.demo.orders.evt.v1"
PARTITIONS = 4
NOTE = "x" * 40  # commands of ~440 bytes
Record = tuple[bytes, bytes]  # (key, value)


# -- commands and the bare agents' work -------------------------------------------------


def command(n: int, target: str = "echo_compute", **payload: Any) -> Record:
    """Key (its correlation_id) and value of one ~440-byte local.echo command."""
    ids = {"envelope_id": str(uuid.uuid4()), "correlation_id": str(uuid.uuid4())}
    body = {"order_id": n, "customer": "c-42", "items": [{"sku": "A-1", "qty": 2}], "note": NOTE}
    value = {
        **ids,
        "envelope_version": "1.0",
        "source_node": "bench",
        "target_node": target,
        "handler_type": "local",
        "operation": "local.echo",
        "timestamp": "2030-01-01T00:00:00Z",
        "metadata": {},
        "payload": {**body, **payload},
    }
    return ids["correlation_id"].encode(), json.dumps(value).encode()


def commands(n: int, **payload: Any) -> list[Record]:
    """``n`` commands for echo_compute."""
    return [command(i, **payload) for i in range(n)]


def respond(value: bytes) -> Record:
    """The bare agents' work per record: decode, build the answer, encode."""
    data = json.loads(value)
    answer = {
        **data,
        "envelope_id": str(uuid.uuid4()),
        "causation_id": data["envelope_id"],
        "source_node": data["target_node"],
        "target_node": data["source_node"],
        "timestamp": datetime.now(UTC).isoformat(),
        "is_response": True,
        "success": True,
    }
    return data["correlation_id"].encode(), json.dumps(answer).encode()


def causation_id(answer: bytes) -> str:
    """The envelope_id of the command an answer answers."""
    return str(json.loads(answer)["causation_id"])


# -- Faust apps ---------------------------------------------------------------------------


def app_options(broker_url: str, datadir: Path, **conf: Any) -> dict[str, Any]:
    """The options every benchmark's own Faust app shares (raw bytes in and out)."""
    return {
        "broker": broker_url,
        "store": "memory://",
        "web_enabled": False,
        "value_serializer": "raw",
        "key_serializer": "raw",
        "topic_partitions": PARTITIONS,
        "topic_disable_leader": True,
        "datadir": str(datadir),
        **conf,
    }


def bare_app(
    app_class: type[faust.App], name: str, source: str, sink: str, options: dict[str, Any]
) -> faust.App:
    """A bare Faust agent: ``async for value in stream``, ``await topic.send`` per event."""
    app = app_class(name, **options)
    sink_topic = app.topic(sink)

    @app.agent(app.topic(source))
    async def echo(stream: Any) -> None:
        async for value in stream:
            key, answer = respond(value)
            await sink_topic.send(key=key, value=answer)

    return app


# -- clocks ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mark:
    """A moment: the system-wide monotonic clock and this process's CPU seconds."""

    at: float
    cpu: float

    @classmethod
    def now(cls) -> Mark:
        return cls(time.monotonic(), time.process_time())


def on_assignment(app: faust.App) -> list[Mark]:
    """The marks of ``app``'s non-empty partition assignments (filled as they happen)."""
    marks: list[Mark] = []

    def assigned(sender: Any, partitions: set[Any], **_: Any) -> None:
        if partitions:
            marks.append(Mark.now())

    app.on_partitions_assigned.connect(assigned, weak=False)  # type: ignore[arg-type]
    return marks


def peak_rss_mib() -> float:
    """This process's peak RSS (VmHWM; ru_maxrss may carry a forking parent's)."""
    status = Path("/proc/self/status").read_text().splitlines()
    return int(next(line for line in status if line.startswith("VmHWM:")).split()[1]) / 1024


# -- figures --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    """One measured run: envelopes/s, CPU µs per envelope, and what the answers showed."""

    rate: float
    cpu_us: float
    rss_mib: float | None = None
    duplicates: int = 0
    lost: int = 0


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0 < q < 100, steps of 0.1) of ``values``."""
    if len(values) < 2:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[round(q * 10) - 1]


def paired_ratios(numerators: Iterable[float], denominators: Iterable[float]) -> list[float]:
    """Round-by-round ratios of two variants measured in the same rounds."""
    return [a / b for a, b in zip(numerators, denominators, strict=True)]


def ratio_line(label: str, ratios: list[float]) -> str:
    """A ratio's median over rounds, then every round's."""
    per_round = ", ".join(f"{r:.2f}" for r in ratios)
    return f"  {label:34s}{statistics.median(ratios):8.2f}x  rounds [{per_round}]"


def run_line(label: str, runs: list[Run]) -> str:
    """Median envelopes/s, CPU µs per envelope and cores busy (rate x CPU: below 1, the
    variant also waited) of a variant, then every round's rate."""
    rates = [r.rate for r in runs]
    cpu = statistics.median(r.cpu_us for r in runs)
    busy = statistics.median(r.rate * r.cpu_us / 1e6 for r in runs)
    per_round = ", ".join(f"{r:,.0f}" for r in rates)
    return (
        f"  {label:34s}{statistics.median(rates):9,.0f}/s {cpu:6.0f} µs CPU {busy:5.2f} core"
        f"  [{per_round}]"
    )


def rotated(names: list[str], round_: int) -> list[str]:
    """The order of round ``round_`` (from 0): each round starts one variant later."""
    shift = round_ % len(names)
    return names[shift:] + names[:shift]


def interleaved(
    names: list[str], measure: Callable[[str], Run], rounds: int, log: Callable[[str], None]
) -> dict[str, list[Run]]:
    """``measure`` every variant once per round, each round starting one variant later."""
    results: dict[str, list[Run]] = {name: [] for name in names}
    for round_ in range(rounds):
        for name in rotated(names, round_):
            run = measure(name)
            log(f"  round {round_ + 1}: {name}: {run.rate:,.0f}/s, {run.cpu_us:.0f} µs CPU")
            results[name].append(run)
    return results
