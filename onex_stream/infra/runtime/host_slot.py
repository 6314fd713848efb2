"""One runtime host per process: the slot a starting host claims and gives back when it stops.

A process runs one host (scale out with more worker processes, not more hosts in one
process): handlers, metrics and the Faust worker are process-wide. The slot is held
from the host's start to its stop; a start that fails gives it back at once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from onex_stream.core.errors import HostStartError, RuntimeHostError


@dataclass(frozen=True)
class _Holder:
    owner: object
    name: str
    contract: str


_lock = threading.Lock()
_holder: _Holder | None = None


def claim(owner: object, name: str, contract: str) -> None:
    """Take the slot for ``owner`` (host ``name`` of ``contract``), or raise a one-line
    :class:`HostStartError` naming the host that holds it. Claiming it again is a no-op."""
    global _holder  # noqa: PLW0603 -- the process-wide slot
    with _lock:
        if _holder is not None and _holder.owner is not owner:
            message = (
                f"{contract}: runtime host '{name}' refused: runtime host '{_holder.name}' "
                f"({_holder.contract}) is already running in this process; run one host "
                "per process (start another worker process to run another host)"
            )
            raise HostStartError(message, RuntimeHostError(message))
        _holder = _Holder(owner, name, contract)


def release(owner: object) -> None:
    """Give the slot back if ``owner`` holds it (otherwise nothing happens)."""
    global _holder  # noqa: PLW0603 -- the process-wide slot
    with _lock:
        if _holder is not None and _holder.owner is owner:
            _holder = None


def holder() -> str | None:
    """The name of the host holding the slot, if any."""
    current = _holder
    return current.name if current else None
