"""A stop that outlasts its deadline ends the process, saying what stays uncommitted."""

from __future__ import annotations

import threading

import pytest

from onex_stream.infra.event_bus.faust_app import HostApp
from onex_stream.infra.event_bus.stop_deadline import arm_stop_deadline


def test_a_stuck_stop_exits_0_after_the_deadline_naming_the_uncommitted_envelopes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    exited = threading.Event()
    codes: list[int] = []

    def exit_process(code: int) -> None:
        codes.append(code)
        exited.set()

    arm_stop_deadline(0.0, lambda: 7, exit_process=exit_process, margin=0.02)
    assert exited.wait(5)
    assert codes == [0]
    assert "7 envelope(s) delivered since the last commit will be delivered again" in caplog.text


def test_a_stop_that_finishes_in_time_cancels_the_deadline() -> None:
    called: list[int] = []
    timer = arm_stop_deadline(0.0, lambda: 0, exit_process=called.append, margin=0.05)
    timer.cancel()
    timer.join(1)
    assert called == []


def test_in_process_apps_never_arm_it() -> None:
    """Only worker processes (``bootstrap.worker_process_app``) end themselves."""
    assert HostApp("t-deadline", broker="memory://", web_enabled=False).owns_process is False
