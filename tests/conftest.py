"""Fixtures shared by every test: deterministic ids and clock."""

from __future__ import annotations

import pytest

from tests.support.deterministic import DeterministicClock, DeterministicIds


@pytest.fixture
def ids() -> DeterministicIds:
    """Predictable UUIDs."""
    return DeterministicIds()


@pytest.fixture
def clock() -> DeterministicClock:
    """A clock fixed at 2024-01-01T00:00:00Z until advanced."""
    return DeterministicClock()
