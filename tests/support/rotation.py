"""Secret rotation tests: a fake monotonic clock, an in-memory secret store, a PostgreSQL role."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import asyncpg
import pytest

from onex_stream.core.errors import HandlerExecutionError
from onex_stream.core.secret_refs import SecretRef, parse_secret_ref
from onex_stream.infra.secret_cache import RotatingSecret, SecretCache
from tests.support.canary import CANARY
from tests.support.postgres import EmbeddedPostgres


@dataclass
class FakeClock:
    """A monotonic clock that moves only when told to."""

    now: float = 1000.0

    def __call__(self) -> float:
        """The current time, in seconds."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += seconds


@dataclass
class SecretStore:
    """Secrets by path (what Vault would hold) and every read of them."""

    secrets: dict[str, dict[str, Any]] = field(default_factory=dict)
    reads: list[str] = field(default_factory=list)
    down: bool = False

    async def read(self, path: str) -> Mapping[str, Any]:
        """The secret at ``path`` (a ``SecretCache`` reader); fails while ``down``."""
        self.reads.append(path)
        await asyncio.sleep(0)  # a real read yields to the loop: concurrent users overlap
        if self.down:
            raise HandlerExecutionError("vault at http://127.0.0.1:1 is unreachable")
        if path not in self.secrets:
            raise HandlerExecutionError(f"no secret at secret/data/{path}")
        return dict(self.secrets[path])


def rotating(cache: SecretCache, reference: str) -> RotatingSecret:
    """``reference`` read through ``cache``, as the vault handler hands it to a handler."""

    async def read(ref: SecretRef, fresh: bool) -> str:
        return str((await cache.get(ref.path, fresh=fresh))[ref.key])

    return RotatingSecret(parse_secret_ref(reference), read)


@dataclass
class Role:
    """A PostgreSQL login role of one test, its password and an admin connection."""

    name: str
    password: str
    admin: asyncpg.Connection[asyncpg.Record]

    async def rotate(self, password: str) -> None:
        """Give the role a new password (open sessions stay open, as in PostgreSQL)."""
        await self.admin.execute(f"ALTER ROLE {self.name} PASSWORD '{password}'")
        self.password = password

    async def end_sessions(self) -> int:
        """Terminate the role's sessions (waiting for each), so the next use reconnects."""
        ended = await self.admin.fetchval(
            "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
            "WHERE usename = $1",
            self.name,
        )
        return int(ended)

    async def sessions(self) -> int:
        """How many sessions the role has open."""
        count = await self.admin.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE usename = $1", self.name
        )
        return int(count)


def password(label: str) -> str:
    """A password holding the session's canary (it must never come out of the host)."""
    return f"{CANARY}-{label}-{uuid4().hex[:6]}"


@pytest.fixture
async def pg_role(postgres_server: EmbeddedPostgres) -> AsyncIterator[Role]:
    """A fresh login role (scram password) on the session's PostgreSQL, dropped afterwards."""
    admin = await asyncpg.connect(postgres_server.dsn)
    role = Role(f"rot_{uuid4().hex[:10]}", password("pg1"), admin)
    await admin.execute(f"CREATE ROLE {role.name} LOGIN PASSWORD '{role.password}'")
    yield role
    await role.end_sessions()
    await admin.execute(f"DROP ROLE {role.name}")
    await admin.close()
