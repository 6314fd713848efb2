"""The refusal every dev/test-only entry point applies to ``ONEX_ENV=prod``."""

from __future__ import annotations

import os
import sys

from onex_stream.bootstrap import EnumOnexEnv, onex_env
from onex_stream.core.errors import RuntimeHostError


def refuses_prod(program: str) -> bool:
    """Default ``ONEX_ENV`` to dev; True (after saying why) when it is prod or invalid."""
    os.environ.setdefault("ONEX_ENV", "dev")
    try:
        stage = onex_env(os.environ)
    except RuntimeHostError as error:
        print(error.message, file=sys.stderr)
        return True
    if stage is EnumOnexEnv.PROD:
        print(f"{program} is dev/test only: it refuses to run with ONEX_ENV=prod", file=sys.stderr)
        return True
    return False
