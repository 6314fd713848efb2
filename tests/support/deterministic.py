"""Deterministic ids and clock for tests (000, "Deterministic Test Helpers")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID


class DeterministicIds:
    """Predictable UUIDs: UUID(int=seed+1), UUID(int=seed+2), ..."""

    def __init__(self, seed: int = 1000) -> None:
        self._counter = seed

    def __call__(self) -> UUID:
        self._counter += 1
        return UUID(int=self._counter)


class DeterministicClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime = datetime(2024, 1, 1, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)
