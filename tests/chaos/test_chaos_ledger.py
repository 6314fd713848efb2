"""The chaos ledger counts what it says it counts (tests/chaos/ledger.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from onex_stream.core.envelope import ModelErrorInfo, ModelOnexEnvelope
from tests.chaos import ledger as chaos_ledger
from tests.chaos.harness import request_id
from tests.chaos.ledger import (
    BREAKER_OPEN,
    FAULT,
    HEALED,
    Answer,
    DeadLetter,
    build_ledger,
    emit,
    table,
)

pytestmark = pytest.mark.chaos


def answer(n: int, at: float, code: str | None = None, **payload: Any) -> Answer:
    """An answer to command ``n`` arriving at ``at``: ok, or failed with ``code``."""
    envelope = ModelOnexEnvelope(
        envelope_id=UUID(int=900_000 + int(at * 1000)),
        causation_id=request_id(n),
        source_node="node",
        is_response=True,
        success=code is None,
        payload=payload or None,
        error=ModelErrorInfo(code=code, message=code) if code else None,
    )
    return Answer(envelope, at)


def test_each_sent_envelope_counts_once_by_its_first_answer_and_repeats_are_duplicates() -> None:
    sent = {str(request_id(n)): 0.0 for n in range(4)}
    answers = [
        answer(0, 1.0),
        answer(1, 1.1, "HANDLER_TIMEOUT"),
        answer(1, 1.2),  # a redelivery answered again
        answer(2, 1.3, status_code=503),
        answer(99, 1.4),  # never sent
    ]
    ledger = build_ledger("s", sent, answers)
    assert (ledger.sent, ledger.answered_ok) == (4, 1)
    assert ledger.answered_error == {"HANDLER_TIMEOUT": 1, "HTTP_503": 1}
    assert (ledger.duplicates, ledger.duplicate_ids) == (1, [str(request_id(1))])
    assert (ledger.lost, ledger.lost_ids) == (1, [str(request_id(3))])
    assert ledger.unexpected_answers == 1
    assert not ledger.answered_once


def test_a_dead_letter_settles_its_envelope_and_is_matched_by_the_id_it_holds() -> None:
    command = json.dumps({"envelope_id": str(request_id(7))}).encode()
    letters = [
        DeadLetter.decode(command, [("onex-dlq-error-code", b"ENVELOPE_VALIDATION_ERROR")], 2.0),
        DeadLetter.decode(b"\xff not json", [], 2.1),
    ]
    assert letters[0] == DeadLetter(str(request_id(7)), "ENVELOPE_VALIDATION_ERROR", 2.0)
    assert letters[1] == DeadLetter(None, "UNKNOWN", 2.1)
    ledger = build_ledger("s", [request_id(7)], [], letters)
    assert (ledger.dead_letters, ledger.lost) == (2, 0)


def test_breaker_trip_runs_from_the_threshold_th_failure_after_the_fault_to_the_opening() -> None:
    sent = {str(request_id(n)): 0.0 for n in range(6)}
    answers = [
        answer(0, 0.5, "HANDLER_EXECUTION_ERROR"),  # before the fault: not counted
        answer(1, 1.5, "HANDLER_EXECUTION_ERROR"),
        answer(2, 2.0, status_code=502),
        answer(3, 3.0, "HANDLER_TIMEOUT"),  # the third failure after the fault
        answer(4, 3.25, "CIRCUIT_OPEN"),
        answer(5, 9.5),
    ]
    marks = {FAULT: 1.0, HEALED: 9.0}
    ledger = build_ledger("s", sent, answers, marks=marks, breaker_threshold=3)
    assert ledger.breaker_trip_seconds == 0.25  # to the first CIRCUIT_OPEN answer
    assert ledger.recovery_seconds == 0.5
    assert ledger.extra["fault_to_breaker_open_s"] == 2.25
    watched = build_ledger(
        "s", sent, answers, marks={**marks, BREAKER_OPEN: 3.0}, breaker_threshold=3
    )
    assert watched.breaker_trip_seconds == 0.0  # opened by the third failing call itself


def test_a_ledger_is_printed_as_one_block_and_written_as_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CHAOS_LEDGER_DIR", str(tmp_path / "ledgers"))
    monkeypatch.setattr(chaos_ledger, "EMITTED", [])  # not a scenario: keep it off the summary
    ledger = build_ledger("unit-ledger", [request_id(1)], [answer(1, 1.0)], extra={"k": 1.5})
    path = emit(ledger)
    assert path.parent == tmp_path / "ledgers" and path.name.startswith("unit-ledger-")
    assert json.loads(path.read_text())["answered_ok"] == 1
    printed = capsys.readouterr().out
    assert "== chaos ledger: unit-ledger ==" in printed and "k                     1.500" in printed
    assert table([ledger]).splitlines()[2].startswith("unit-ledger | 1    | 1  | -")
