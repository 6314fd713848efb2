"""A worker's stop never outlasts its shutdown timeout by more than a fixed margin.

With the broker unreachable, Faust's final commit and producer flush wait on aiokafka's
request timeouts (over a minute) although nothing can be committed any more. A daemon
thread (the event loop may be the thing that is stuck) ends the process once the
deadline passes: what was not committed is delivered again to the next worker, so
at-least-once holds; the exit code is 0, as for any SIGTERM.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable

#: How long a stop may run past ``shutdown_timeout_seconds`` (commit, flush, hooks).
SHUTDOWN_MARGIN_SECONDS = 10.0

logger = logging.getLogger(__name__)


def arm_stop_deadline(
    grace_seconds: float,
    uncommitted: Callable[[], int],
    exit_process: Callable[[int], None] = os._exit,
    margin: float = SHUTDOWN_MARGIN_SECONDS,
) -> threading.Timer:
    """Start the countdown of one stop; the returned timer may be cancelled."""
    deadline = grace_seconds + margin

    def give_up() -> None:
        logger.error(
            "stop did not finish within %.0f s (shutdown_timeout_seconds + %.0f s): exiting "
            "now; %d envelope(s) delivered since the last commit will be delivered again",
            deadline,
            margin,
            uncommitted(),
        )
        for handler in logging.getLogger().handlers:
            handler.flush()
        exit_process(0)

    timer = threading.Timer(deadline, give_up)
    timer.daemon = True
    timer.start()
    return timer
