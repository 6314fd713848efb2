"""A worker app for tests: the host of ``$ONEX_CONTRACT`` seeing an unsupported faust-streaming.

``faust -A tests.support.unsupported_version_worker worker`` must end at start with the
compatibility matrix's one line.
"""

from __future__ import annotations

import os

from onex_stream.bootstrap import build_host, worker_process_app
from onex_stream.infra.runtime.compatibility import installed_versions

host = build_host(os.environ["ONEX_CONTRACT"])
host.versions = lambda: {**installed_versions(), "faust-streaming": "0.16.0"}
app = worker_process_app(host)
