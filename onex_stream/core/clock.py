"""Injectable sources of time and identity, so tests can be deterministic."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID, uuid4

Clock = Callable[[], datetime]
IdFactory = Callable[[], UUID]


def system_clock() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def random_ids() -> UUID:
    """A new random UUID (version 4)."""
    return uuid4()
