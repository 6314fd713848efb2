"""A worker app for tests: the host of ``$ONEX_CONTRACT`` whose local handler can wait.

``faust -A tests.support.delay_worker worker``; ``local.echo`` waits
``payload.delay_ms`` before answering, so tests can hold work in flight.
"""

from __future__ import annotations

import os

from onex_stream.bootstrap import build_host, faust_app
from onex_stream.core.enums import EnumHandlerType
from tests.support.delayed_handler import DelayedLocalHandler

app = faust_app(
    build_host(
        os.environ["ONEX_CONTRACT"], extra_handlers={EnumHandlerType.LOCAL: DelayedLocalHandler}
    )
)
