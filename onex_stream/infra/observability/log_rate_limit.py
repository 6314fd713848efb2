"""Bounded client error logging: one line per interval and message, with a count."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

#: Loggers whose repeated warnings and errors are bounded (a lost broker makes aiokafka
#: log every reconnect attempt, about 100 lines a second).
BOUNDED_LOGGERS = ("aiokafka", "kafka")
INTERVAL_SECONDS = 10.0


class RateLimitFilter(logging.Filter):
    """Lets the first record of each (logger, message template) through per interval;
    the next one let through says how many were suppressed meanwhile."""

    def __init__(
        self,
        interval: float = INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        loggers: tuple[str, ...] = BOUNDED_LOGGERS,
    ) -> None:
        super().__init__()
        self._interval = interval
        self._clock = clock
        self._prefixes = loggers
        self._seen: dict[tuple[str, object], tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        """False for a repeat within the interval; True (with the count) otherwise."""
        if record.levelno < logging.WARNING or not record.name.startswith(self._prefixes):
            return True
        key, now = (record.name, record.msg), self._clock()
        since, suppressed = self._seen.get(key, (float("-inf"), 0))
        if now - since < self._interval:
            self._seen[key] = (since, suppressed + 1)
            return False
        self._seen[key] = (now, 0)
        if suppressed:
            record.msg = f"{record.msg} ({suppressed} more like this in the last interval)"
        return True
