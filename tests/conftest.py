"""Fixtures shared by every test: deterministic ids and clock, and the secret canary."""

from __future__ import annotations

import pytest

from tests.support import canary
from tests.support.deterministic import DeterministicClock, DeterministicIds

# The session-wide secret canary (tests/support/canary.py): fixtures and hooks.
canary_watch = canary.canary_watch
canary_secret = canary.canary_secret
canary_self_test = canary.canary_self_test
pytest_configure = canary.pytest_configure
pytest_terminal_summary = canary.pytest_terminal_summary


@pytest.fixture
def ids() -> DeterministicIds:
    """Predictable UUIDs."""
    return DeterministicIds()


@pytest.fixture
def clock() -> DeterministicClock:
    """A clock fixed at 2024-01-01T00:00:00Z until advanced."""
    return DeterministicClock()
