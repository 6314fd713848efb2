"""The Faust app of ``faust -A onex_stream worker``, built from ``$ONEX_CONTRACT``."""

from __future__ import annotations

import os
import sys

import faust

from onex_stream.bootstrap import build_host, worker_process_app
from onex_stream.core.errors import RuntimeHostError, cannot_start


def load_app() -> faust.App:
    """Build the host named by ``ONEX_CONTRACT``; exit 1 with a clear message if it fails."""
    path = os.environ.get("ONEX_CONTRACT")
    if not path:
        sys.exit("onex_stream: set ONEX_CONTRACT to the runtime host contract to run")
    try:
        return worker_process_app(build_host(path))
    except RuntimeHostError as error:
        sys.exit(f"onex_stream: {cannot_start(error)}")
