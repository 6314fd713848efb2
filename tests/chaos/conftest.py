"""Chaos scenarios: a PostgreSQL of their own to stop and restart, and every ledger of the
session repeated in the terminal summary (so a CI log shows them without ``-s``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.chaos.ledger import EMITTED, ledger_dir, table
from tests.support.postgres import EmbeddedPostgres


@pytest.fixture
def own_postgres() -> Iterator[EmbeddedPostgres]:
    """A PostgreSQL server for one scenario only (the session's shared one must not be
    stopped under other tests); deleted afterwards."""
    server = EmbeddedPostgres.start()
    yield server
    server.stop()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The session's chaos ledgers as one table, and where their JSON files are."""
    if not EMITTED:
        return
    terminalreporter.section("chaos ledgers")
    for line in table(EMITTED).splitlines():
        terminalreporter.write_line(line)
    terminalreporter.write_line(f"(JSON ledgers in {ledger_dir()})")
