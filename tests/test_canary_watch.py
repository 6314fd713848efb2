"""The session's secret canary watch can fail: planted leaks are detected (then dropped).

These tests plant the canary on purpose, so they are marked ``canary_self_test``: the
watch diverts their hits to them, each fails unless its leaks were seen, and the hits do
not count against the session (tests/support/canary.py).
"""

from __future__ import annotations

import logging

import pytest

from onex_stream.infra.event_bus.memory import MemoryBroker
from onex_stream.infra.observability.metrics import HostMetrics
from tests.support.canary import CanaryWatch


@pytest.mark.canary_self_test(expect=("log record", "memory record"))
def test_a_leaked_log_line_and_record_are_detected(canary_secret: str) -> None:
    logging.getLogger("tests.canary").info("connecting with password %s", canary_secret)
    MemoryBroker().append("onex.test.canary.evt.v1", f'{{"token": "{canary_secret}"}}'.encode())


@pytest.mark.canary_self_test(expect=("log record",))
def test_a_leak_in_a_traceback_is_detected(canary_secret: str) -> None:
    try:
        raise RuntimeError(f"dsn postgresql://u:{canary_secret}@db/x")
    except RuntimeError:
        logging.getLogger("tests.canary").exception("failed")


def test_outside_a_self_test_a_hit_is_recorded_for_the_session(canary_secret: str) -> None:
    watch = CanaryWatch()  # a private watch: the session's stays clean
    watch.scan("metrics outputs", "/metrics output", b"x 1\n", canary_secret.encode())
    assert watch.hits == ["/metrics output: <CANARY>"]
    assert "1 hits" in watch.report()


def test_metrics_outputs_are_searched(canary_watch: CanaryWatch) -> None:
    before = canary_watch.searched["metrics outputs"]
    HostMetrics().exposition()
    assert canary_watch.searched["metrics outputs"] == before + 1
