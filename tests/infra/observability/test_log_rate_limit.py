"""A lost broker's reconnect errors become one line per interval with a count."""

from __future__ import annotations

import logging

from onex_stream.infra.observability.log_rate_limit import RateLimitFilter


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def record(name: str, msg: str, level: int = logging.ERROR) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, ("127.0.0.1:9092",), None)


def test_repeats_within_the_interval_are_dropped_and_counted_on_the_next_line() -> None:
    clock = Clock()
    limit = RateLimitFilter(interval=10, clock=clock)
    template = 'Unable connect to "%s"'
    assert limit.filter(record("aiokafka.conn", template))
    for _ in range(99):
        clock.now += 0.01
        assert not limit.filter(record("aiokafka.conn", template))
    clock.now = 10.5
    passed = record("aiokafka.conn", template)
    assert limit.filter(passed)
    assert passed.getMessage().endswith("(99 more like this in the last interval)")


def test_other_loggers_other_messages_and_info_lines_are_never_bounded() -> None:
    limit = RateLimitFilter(interval=10, clock=Clock())
    assert limit.filter(record("aiokafka.conn", "a"))
    assert limit.filter(record("aiokafka.conn", "b"))
    assert all(limit.filter(record("onex_stream.host", "x")) for _ in range(3))
    assert all(limit.filter(record("aiokafka", "c", logging.INFO)) for _ in range(3))
