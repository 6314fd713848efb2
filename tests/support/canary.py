"""The session's secret canary: a value planted where secrets flow and searched for everywhere.

``CANARY`` (``onex-canary-<random hex>``, new each session) is planted by tests as a secret
that must *never* come out again: the OpenBao root token (``tests/support/openbao.py``),
vault tokens and AppRole secret ids, db passwords resolved from ``env:`` and ``vault:``
references, a db DSN password on a failing connection, credential header values of the
http redirect tests. It is never planted as a value a node explicitly asks for
(``vault.get_secret``'s answer legitimately carries the secret it was asked for) and never
put in a command: a dead letter carries its command, so a secret sent in a command would
rightly come back out of the dead-letter topic.

For the whole session it is searched for in

* every log record that reaches the root logger, formatted by the project's JSON formatter
  *without* the redaction filter (the value must never appear, redacted later or not),
  its traceback included (the root logger is lowered to INFO, the level hosts log at, for
  the session; DEBUG would make every ``logger.debug`` call build a record and slow the
  timing-sensitive tests, so debug lines are searched only where a test enables them);
* every record (value, key, header names and values) appended to any ``memory://`` topic:
  commands, responses and dead letters (``MemoryBroker.append``);
* every ``/metrics`` exposition, text and OpenMetrics (``HostMetrics.exposition``,
  ``openmetrics_exposition``).

Any hit fails the session: the session fixture's teardown raises, which pytest reports as an
error listing where the canary appeared (the value itself is masked in the report).

A test marked ``@pytest.mark.canary_self_test`` plants the canary on purpose: its hits are
diverted to that test, which fails unless they were detected, and are then dropped from the
session's list. This proves the watch can fail without failing the session.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from onex_stream.infra.event_bus.memory.broker import MemoryBroker
from onex_stream.infra.observability.logging_setup import json_formatter
from onex_stream.infra.observability.metrics import HostMetrics

CANARY = f"onex-canary-{secrets.token_hex(8)}"
MASK = "<CANARY>"
SELF_TEST = "canary_self_test"


@dataclass
class CanaryWatch:
    """Where the canary was seen, and how much was searched."""

    canary: str = CANARY
    hits: list[str] = field(default_factory=list)
    diverted: list[str] | None = None  # set while a canary self-test runs
    searched: dict[str, int] = field(
        default_factory=lambda: {"log lines": 0, "memory records": 0, "metrics outputs": 0}
    )

    def scan(self, kind: str, where: str, *texts: str | bytes | None) -> None:
        """Count one ``kind`` of output; note ``where`` when any text holds the canary."""
        self.searched[kind] += 1
        needle = self.canary.encode()
        for text in texts:
            if text is None:
                continue
            found = needle in text if isinstance(text, bytes) else self.canary in text
            if found:
                shown = text.decode(errors="replace") if isinstance(text, bytes) else text
                hit = f"{where}: {shown.replace(self.canary, MASK)[:300]}"
                (self.diverted if self.diverted is not None else self.hits).append(hit)
                return

    def report(self) -> str:
        """One line: what was searched and how many hits."""
        counts = ", ".join(f"{n} {kind}" for kind, n in self.searched.items())
        return f"secret canary: {len(self.hits)} hits in {counts}"


WATCH = CanaryWatch()


class CanaryLogHandler(logging.Handler):
    """Searches every record reaching the root logger, formatted without redaction."""

    def __init__(self, watch: CanaryWatch) -> None:
        super().__init__(logging.NOTSET)
        self.watch = watch
        self.setFormatter(json_formatter())
        self._onex_configured = True  # configure_logging must not add its redaction filter

    def emit(self, record: logging.LogRecord) -> None:
        """Search the formatted line (traceback included) and the raw message and args."""
        try:
            line = self.format(record)
        except Exception:
            line = ""
        raw = f"{record.msg!r} {record.args!r}"
        self.watch.scan("log lines", f"log record of {record.name}", line, raw)


def _watch_appends(watch: CanaryWatch) -> Callable[[], None]:
    original = MemoryBroker.append

    def append(self: MemoryBroker, topic: str, value: bytes | None, *args: Any, **kw: Any) -> Any:
        key = args[0] if args else kw.get("key")
        headers = (args[2] if len(args) > 2 else kw.get("headers")) or []
        flat = b"".join(name.encode() + b"=" + (v or b"") + b";" for name, v in headers)
        watch.scan("memory records", f"memory record on {topic}", value, key, flat)
        return original(self, topic, value, *args, **kw)

    MemoryBroker.append = append  # type: ignore[method-assign]

    def restore() -> None:
        MemoryBroker.append = original  # type: ignore[method-assign]

    return restore


def _watch_metrics(watch: CanaryWatch) -> Callable[[], None]:
    formats = ("exposition", "openmetrics_exposition")  # text and OpenMetrics
    originals = {name: getattr(HostMetrics, name) for name in formats}

    def watched(original: Callable[[HostMetrics], bytes]) -> Callable[[HostMetrics], bytes]:
        def exposition(self: HostMetrics) -> bytes:
            text = original(self)
            watch.scan("metrics outputs", "/metrics output", text)
            return text

        return exposition

    for name, original in originals.items():
        setattr(HostMetrics, name, watched(original))

    def restore() -> None:
        for name, original in originals.items():
            setattr(HostMetrics, name, original)

    return restore


@pytest.fixture(scope="session", autouse=True)
def canary_watch() -> Iterator[CanaryWatch]:
    """Search the whole session's logs, memory:// records and /metrics for the canary;
    raise at the end (an error pytest reports) when it appeared anywhere."""
    root = logging.getLogger()
    handler = CanaryLogHandler(WATCH)
    level = root.level
    root.addHandler(handler)
    root.setLevel(min(level or logging.WARNING, logging.INFO))
    restores = [_watch_appends(WATCH), _watch_metrics(WATCH)]
    try:
        yield WATCH
    finally:
        for restore in restores:
            restore()
        root.removeHandler(handler)
        root.setLevel(level)
    if WATCH.hits:
        listed = "\n".join(f"  {hit}" for hit in WATCH.hits[:50])
        pytest.fail(f"{WATCH.report()}: the planted secret leaked:\n{listed}", pytrace=False)


@pytest.fixture
def canary_secret() -> str:
    """The session's canary: plant it as a secret that must never come out again."""
    return CANARY


@pytest.fixture(autouse=True)
def canary_self_test(request: pytest.FixtureRequest, canary_watch: CanaryWatch) -> Iterator[None]:
    """For a test marked ``canary_self_test``: its hits are its own (it fails unless the
    watch saw the canary it planted) and are dropped from the session's list."""
    marker = request.node.get_closest_marker(SELF_TEST)
    if marker is None:
        yield
        return
    canary_watch.diverted = []
    try:
        yield
        seen = list(canary_watch.diverted)
    finally:
        canary_watch.diverted = None
    kinds = marker.kwargs.get("expect", ())
    missing = [kind for kind in kinds if not any(hit.startswith(kind) for hit in seen)]
    assert seen and not missing, f"the canary watch missed planted canaries: {missing or seen}"


def pytest_configure(config: pytest.Config) -> None:
    """Register the self-test marker."""
    config.addinivalue_line(
        "markers", f"{SELF_TEST}(expect=()): plants the canary on purpose (tests/support/canary.py)"
    )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The canary's count at the end of the run."""
    terminalreporter.write_line(WATCH.report())
