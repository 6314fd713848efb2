"""The ledger of a chaos scenario: what was sent, how it was answered, what was lost.

Transport-agnostic. A scenario feeds a :class:`Recorder` with the envelope ids it sends,
the response envelopes it receives (decoded) and the dead letters (value and headers),
each stamped with ``time.monotonic()`` when it arrives, and marks the moments that matter
(:data:`FAULT`, :data:`HEALED`, :data:`BREAKER_OPEN`). :func:`build_ledger` turns that into
a :class:`Ledger`; :func:`emit` prints it as one block (``pytest -s`` shows it; the chaos
``conftest`` repeats every ledger of the session in the terminal summary, so the CI log
shows them too) and writes it as JSON to ``build/chaos-ledgers/<scenario>-<timestamp>.json``
(or ``$CHAOS_LEDGER_DIR``).

A memory:// scenario feeds the recorder with ``tests.chaos.memory_tap.MemoryTap``; a Kafka
scenario feeds it from its own consumer (decode the value with
``ModelOnexEnvelope.from_json``, pass dead letters' value and headers as they come).

Counting rules:

- every sent envelope counts once, by its *first* answer: ``answered_ok`` or
  ``answered_error[code]``; further answers for the same envelope are ``duplicates``;
- ``answered_error`` keys are error codes (``error.code``) and, for http, ``HTTP_<status>``
  for a success envelope reporting a status >= 400 (the http handler answers non-2xx as a
  successful call; the caller still sees a failed request);
- ``lost``: sent envelopes with neither an answer nor a dead letter (must be 0);
- ``breaker_trip_seconds``: from the ``breaker_threshold``-th backend failure answered after
  the :data:`FAULT` mark (an HANDLER_EXECUTION_ERROR, HANDLER_TIMEOUT or HTTP 5xx answer of
  the faulty dependency's calls) to the breaker opening: the :data:`BREAKER_OPEN` mark if
  the scenario watched the breaker, else the first CIRCUIT_OPEN answer, whichever is first
  (000's Beta metric: < 10 s). 0.000 means the threshold-th failing call itself opened it
  (the breaker records a call's outcome before its answer is published). Two figures go
  with it in ``extra``: ``fault_to_breaker_open_s`` (from the fault) and
  ``threshold_to_first_circuit_open_answer_s`` (the first call it kept from the backend);
- ``recovery_seconds``: from the :data:`HEALED` mark to the first ok answer of the
  dependency's calls after it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from onex_stream.core.envelope import ModelOnexEnvelope

#: Marks a scenario sets with :meth:`Recorder.mark`.
FAULT, HEALED, BREAKER_OPEN = "fault", "healed", "breaker_open"
OK = "ok"
CIRCUIT_OPEN = "CIRCUIT_OPEN"
#: Answers that a circuit breaker counts as a backend failure (see ``transient.backend_failed``).
BACKEND_FAILURES = frozenset({"HANDLER_EXECUTION_ERROR", "HANDLER_TIMEOUT"})
DLQ_ERROR_CODE = "onex-dlq-error-code"
LEDGER_DIR_VARIABLE = "CHAOS_LEDGER_DIR"
DEFAULT_LEDGER_DIR = Path(__file__).resolve().parents[2] / "build" / "chaos-ledgers"
_TICK = 0.02  # re-check a waited-for condition at least this often (seconds)
_LISTED_IDS = 20  # ids of lost or duplicated envelopes kept in a ledger

Filter = Callable[[ModelOnexEnvelope], bool]


def outcome(envelope: ModelOnexEnvelope) -> str:
    """``ok``, the error code, or ``HTTP_<status>`` for an http answer reporting >= 400."""
    if envelope.error is not None:
        return envelope.error.code
    if envelope.success is False:
        return "UNSPECIFIED_ERROR"
    status = (envelope.payload or {}).get("status_code")
    if isinstance(status, int) and status >= 400:
        return f"HTTP_{status}"
    return OK


def backend_failure(code: str) -> bool:
    """Whether an outcome is one a circuit breaker counts as a failure."""
    return code in BACKEND_FAILURES or (code.startswith("HTTP_5") and len(code) == 8)


@dataclass(frozen=True)
class Answer:
    """A response envelope and when it arrived (``time.monotonic()``)."""

    envelope: ModelOnexEnvelope
    at: float

    @property
    def request_id(self) -> str | None:
        """The envelope id of the command it answers (its ``causation_id``)."""
        cause = self.envelope.causation_id
        return str(cause) if cause is not None else None

    @property
    def outcome(self) -> str:
        """See :func:`outcome`."""
        return outcome(self.envelope)


@dataclass(frozen=True)
class DeadLetter:
    """A dead letter: the envelope id of the command it holds (if readable), why, when."""

    envelope_id: str | None
    error_code: str
    at: float

    @classmethod
    def decode(
        cls, value: bytes | None, headers: Iterable[tuple[str, bytes]], at: float
    ) -> DeadLetter:
        """From a dead-letter record's value (the original command) and ``onex-dlq-*``
        headers, as any transport delivers them."""
        code = next((v.decode() for k, v in headers if k == DLQ_ERROR_CODE), "UNKNOWN")
        envelope_id = None
        try:
            found = json.loads(value or b"").get("envelope_id")
            envelope_id = str(UUID(str(found))) if found is not None else None
        except (ValueError, AttributeError):
            pass  # not a JSON object with an envelope id: counted, not matched
        return cls(envelope_id, code, at)


@dataclass
class Recorder:
    """What a scenario sent and received, stamped with ``clock()`` (``time.monotonic``)."""

    clock: Callable[[], float] = time.monotonic
    sent: dict[str, float] = field(default_factory=dict)
    answers: list[Answer] = field(default_factory=list)
    dead_letters: list[DeadLetter] = field(default_factory=list)
    marks: dict[str, float] = field(default_factory=dict)
    timeline: list[tuple[float, str]] = field(default_factory=list)  # (at, what happened)
    _changed: asyncio.Event | None = field(default=None, init=False, repr=False)

    def note_sent(self, envelope_id: UUID | str, at: float | None = None) -> None:
        """A command was handed to the transport."""
        self.sent[str(envelope_id)] = self.clock() if at is None else at
        self._wake()

    def note_answer(self, envelope: ModelOnexEnvelope, at: float | None = None) -> Answer:
        """A response envelope arrived."""
        answer = Answer(envelope, self.clock() if at is None else at)
        self.answers.append(answer)
        self._wake()
        return answer

    def note_dead_letter(
        self, value: bytes | None, headers: Iterable[tuple[str, bytes]], at: float | None = None
    ) -> DeadLetter:
        """A dead letter arrived."""
        letter = DeadLetter.decode(value, headers, self.clock() if at is None else at)
        self.dead_letters.append(letter)
        self._wake()
        return letter

    def mark(self, name: str, at: float | None = None) -> float:
        """Note the moment ``name`` (first time only); its time."""
        return self.marks.setdefault(name, self.clock() if at is None else at)

    def note(self, what: str, at: float | None = None) -> None:
        """Add ``what`` happened (a breaker state change...) to the timeline."""
        self.timeline.append((self.clock() if at is None else at, what))

    def events(self, prefix: str) -> list[tuple[float, str]]:
        """Timeline entries starting with ``prefix``."""
        return [(at, what) for at, what in self.timeline if what.startswith(prefix)]

    def since(self, name: str) -> float:
        """Seconds since mark ``name``."""
        return self.clock() - self.marks[name]

    def settled(self) -> bool:
        """Every sent envelope has an answer or a dead letter."""
        return not self.unsettled()

    def unsettled(self) -> set[str]:
        """Sent envelope ids with neither an answer nor a dead letter yet."""
        done = {a.request_id for a in self.answers} | {d.envelope_id for d in self.dead_letters}
        return set(self.sent) - done

    def count(self, code: str, of: Filter | None = None, after: str | None = None) -> int:
        """Answers with outcome ``code`` (of the calls ``of`` selects, after mark ``after``)."""
        return len(self.select(code, of, after))

    def select(
        self, code: str | None, of: Filter | None = None, after: str | None = None
    ) -> list[Answer]:
        """Answers with outcome ``code`` (any with ``None``), of ``of``, after mark ``after``."""
        start = self.marks.get(after, float("inf")) if after is not None else float("-inf")
        return [
            a
            for a in self.answers
            if a.at >= start
            and (code is None or a.outcome == code)
            and (of is None or of(a.envelope))
        ]

    async def wait_until(self, predicate: Callable[[], bool], seconds: float, what: str) -> None:
        """Wait until ``predicate()`` holds, re-checked on every note and every 20 ms;
        ``TimeoutError`` naming ``what`` after ``seconds``."""
        try:
            async with asyncio.timeout(seconds):
                while not predicate():
                    changed = self._changed = asyncio.Event()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(changed.wait(), _TICK)
        except TimeoutError:
            raise TimeoutError(f"{what}: still not the case after {seconds} s") from None

    def ledger(self, scenario: str, **options: Any) -> Ledger:
        """:func:`build_ledger` from what was recorded."""
        return build_ledger(
            scenario, self.sent, self.answers, self.dead_letters, marks=self.marks, **options
        )

    def _wake(self) -> None:
        if self._changed is not None:
            self._changed.set()


@dataclass
class Ledger:
    """One scenario's figures (see the module docstring for the counting rules)."""

    scenario: str
    sent: int
    answered_ok: int
    answered_error: dict[str, int]
    dead_letters: int
    duplicates: int
    lost: int
    breaker_trip_seconds: float | None
    recovery_seconds: float | None
    duration_seconds: float
    extra: dict[str, Any] = field(default_factory=dict)
    unexpected_answers: int = 0  # answers to envelopes this scenario never sent
    lost_ids: list[str] = field(default_factory=list)
    duplicate_ids: list[str] = field(default_factory=list)

    @property
    def answered_once(self) -> bool:
        """Every sent envelope answered (or dead-lettered) exactly once, nothing foreign."""
        return self.lost == 0 and self.duplicates == 0 and self.unexpected_answers == 0

    def as_json(self) -> dict[str, Any]:
        """The ledger as a JSON object."""
        return asdict(self)

    def block(self) -> str:
        """The ledger as one readable block of text."""
        errors = ", ".join(f"{k} {v}" for k, v in sorted(self.answered_error.items())) or "none"
        lines = [
            f"== chaos ledger: {self.scenario} ==",
            f"  sent                  {self.sent}",
            f"  answered ok           {self.answered_ok}",
            f"  answered with error   {sum(self.answered_error.values())} ({errors})",
            f"  dead letters          {self.dead_letters}",
            f"  duplicates            {self.duplicates}",
            f"  lost                  {self.lost}",
            f"  breaker trip          {_seconds(self.breaker_trip_seconds)}",
            f"  recovery              {_seconds(self.recovery_seconds)}",
            f"  duration              {_seconds(self.duration_seconds)}",
        ]
        if self.unexpected_answers:
            lines.append(f"  unexpected answers    {self.unexpected_answers}")
        if self.lost_ids:
            lines.append(f"  lost ids              {', '.join(self.lost_ids)}")
        if self.duplicate_ids:
            lines.append(f"  duplicated ids        {', '.join(self.duplicate_ids)}")
        lines.extend(f"  {key:<21} {_figure(value)}" for key, value in self.extra.items())
        return "\n".join(lines)


def build_ledger(
    scenario: str,
    sent: Mapping[str, float] | Sequence[UUID | str],
    answers: Sequence[Answer],
    dead_letters: Sequence[DeadLetter] = (),
    *,
    marks: Mapping[str, float] | None = None,
    breaker_threshold: int | None = None,
    dependency: Filter | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Ledger:
    """The ledger of ``sent`` envelope ids (with send times, or just the ids), the
    ``answers`` and ``dead_letters`` received, and the scenario's ``marks``.

    ``dependency`` selects the answers of calls to the faulty dependency (default: all) for
    the breaker trip and recovery figures; ``breaker_threshold`` is the contract's
    ``failure_threshold`` (no trip figure without it).
    """
    marks = dict(marks or {})
    sent_at = dict(sent) if isinstance(sent, Mapping) else {str(i): 0.0 for i in sent}
    ordered = sorted(answers, key=lambda a: a.at)
    first: dict[str, Answer] = {}
    repeats: Counter[str] = Counter()
    unexpected = 0
    for answer in ordered:
        request = answer.request_id
        if request is None or request not in sent_at:
            unexpected += 1
        elif request in first:
            repeats[request] += 1
        else:
            first[request] = answer
    outcomes = Counter(a.outcome for a in first.values())
    answered_ok = outcomes.pop(OK, 0)
    lettered = {d.envelope_id for d in dead_letters}
    lost = sorted(set(sent_at) - set(first) - lettered)
    times = [*sent_at.values(), *(a.at for a in ordered), *(d.at for d in dead_letters)]
    stamped = [t for t in times if t]
    trip, trip_figures = _breaker_trip(ordered, marks, breaker_threshold, dependency)
    return Ledger(
        scenario=scenario,
        sent=len(sent_at),
        answered_ok=answered_ok,
        answered_error=dict(sorted(outcomes.items())),
        dead_letters=len(dead_letters),
        duplicates=sum(repeats.values()),
        lost=len(lost),
        breaker_trip_seconds=trip,
        recovery_seconds=_recovery(ordered, marks, dependency),
        duration_seconds=round(max(stamped) - min(stamped), 3) if stamped else 0.0,
        extra={**trip_figures, **(extra or {})},
        unexpected_answers=unexpected,
        lost_ids=lost[:_LISTED_IDS],
        duplicate_ids=sorted(repeats)[:_LISTED_IDS],
    )


def _breaker_trip(
    answers: Sequence[Answer],
    marks: Mapping[str, float],
    threshold: int | None,
    dependency: Filter | None,
) -> tuple[float | None, dict[str, float]]:
    """The trip time, and the figures around it: fault -> open, threshold -> first
    CIRCUIT_OPEN answer (the first call the open breaker kept from the backend)."""
    if FAULT not in marks:
        return None, {}
    fault = marks[FAULT]
    after = [a for a in answers if a.at >= fault and (dependency or _any)(a.envelope)]
    failures = [a for a in after if backend_failure(a.outcome)]
    refused = next((a.at for a in after if a.outcome == CIRCUIT_OPEN), None)
    opened = [t for t in (marks.get(BREAKER_OPEN), refused) if t is not None]
    figures = {"fault_to_breaker_open_s": round(min(opened) - fault, 3)} if opened else {}
    if threshold is None or len(failures) < threshold or not opened:
        return None, figures
    reached = failures[threshold - 1].at
    if refused is not None:  # answers noted in one wake-up may be a hair out of order: >= 0
        figures["threshold_to_first_circuit_open_answer_s"] = round(max(0.0, refused - reached), 3)
    return round(max(0.0, min(opened) - reached), 3), figures


def _recovery(
    answers: Sequence[Answer], marks: Mapping[str, float], dependency: Filter | None
) -> float | None:
    if HEALED not in marks:
        return None
    healed = marks[HEALED]
    ok = (
        a.at
        for a in answers
        if a.at >= healed and a.outcome == OK and (dependency or _any)(a.envelope)
    )
    first_ok = next(ok, None)
    return None if first_ok is None else round(first_ok - healed, 3)


def _any(_: ModelOnexEnvelope) -> bool:
    return True


# -- output --------------------------------------------------------------------------------

#: Every ledger emitted in this process, for the chaos conftest's terminal summary.
EMITTED: list[Ledger] = []


def ledger_dir() -> Path:
    """``$CHAOS_LEDGER_DIR`` or ``build/chaos-ledgers`` at the project root."""
    configured = os.environ.get(LEDGER_DIR_VARIABLE)
    return Path(configured) if configured else DEFAULT_LEDGER_DIR


def emit(ledger: Ledger) -> Path:
    """Print the ledger as one block and write it as JSON; the file written."""
    print(f"\n{ledger.block()}\n", flush=True)
    EMITTED.append(ledger)
    directory = ledger_dir()
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    path = directory / f"{ledger.scenario}-{stamp}.json"
    path.write_text(json.dumps(ledger.as_json(), indent=2, sort_keys=True, default=str) + "\n")
    return path


TABLE_COLUMNS = ("scenario", "sent", "ok", "errors", "DL", "dup", "lost", "trip s", "recov s")


def table(ledgers: Iterable[Ledger | Mapping[str, Any]]) -> str:
    """Ledgers (or their JSON objects) as a compact text table, one row each."""
    rows = [TABLE_COLUMNS]
    for item in ledgers:
        data = item.as_json() if isinstance(item, Ledger) else item
        errors = data["answered_error"]
        rows.append(
            (
                data["scenario"],
                str(data["sent"]),
                str(data["answered_ok"]),
                " ".join(f"{k}:{v}" for k, v in sorted(errors.items())) or "-",
                str(data["dead_letters"]),
                str(data["duplicates"]),
                str(data["lost"]),
                _figure(data["breaker_trip_seconds"]),
                _figure(data["recovery_seconds"]),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(TABLE_COLUMNS))]
    lines = [" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f} s"


def _figure(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_figure(v)}" for k, v in value.items()) or "-"
    return str(value)
