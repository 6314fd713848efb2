"""A rotating db password against a real PostgreSQL (scram): new connections take the new one."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest

from onex_stream.core.errors import HandlerExecutionError
from onex_stream.infra.handlers.db import DbHandler, DbSettings
from onex_stream.infra.secret_cache import SecretCache
from tests.infra.handlers.conftest import run
from tests.support import rotation
from tests.support.canary import CANARY
from tests.support.postgres import EmbeddedPostgres
from tests.support.rotation import FakeClock, Role, SecretStore, password, rotating

pg_role = rotation.pg_role  # a PostgreSQL login role per test (tests/support/rotation.py)
TTL = 300.0


@pytest.fixture
def clock() -> FakeClock:
    """The cache's clock."""
    return FakeClock()


@pytest.fixture
def store(pg_role: Role) -> SecretStore:
    """Vault's stand-in, holding the role's password at ``onex/db``."""
    return SecretStore({"onex/db": {"password": pg_role.password}})


@pytest.fixture
async def db(
    postgres_server: EmbeddedPostgres, pg_role: Role, store: SecretStore, clock: FakeClock
) -> AsyncIterator[DbHandler]:
    """A db handler logging in as the role with a rotating password (pool of one)."""
    cache = SecretCache(store.read, ttl=TTL, clock=clock)
    handler = DbHandler()
    await handler.initialize(
        {
            "host": "127.0.0.1",
            "port": postgres_server.port,
            "database": "postgres",
            "user": pg_role.name,
            "password": rotating(cache, "vault:onex/db#password"),
            "pool_size": 1,
        }
    )
    yield handler
    await handler.shutdown()


async def who(db: DbHandler) -> str:
    """The user the db handler's connection logged in as."""
    rows = (await run(db, "query", sql="SELECT current_user AS who"))["rows"]
    return str(rows[0]["who"])


async def test_the_installed_asyncpg_calls_a_password_callable_per_connection(
    pg_role: Role, store: SecretStore
) -> None:
    secret = rotating(SecretCache(store.read, ttl=TTL), "vault:onex/db#password")
    args = DbSettings(host="127.0.0.1", user=pg_role.name, password=secret).pool_args()
    assert args["password"] is secret
    assert callable(args["connect"])
    assert repr(secret) in repr(DbSettings(host="h", password=secret))
    assert pg_role.password not in repr(DbSettings(host="h", password=secret))


async def test_open_connections_keep_working_after_a_rotation(
    db: DbHandler, pg_role: Role, store: SecretStore
) -> None:
    await pg_role.rotate(password("pg2"))
    store.secrets["onex/db"] = {"password": pg_role.password}
    assert await who(db) == pg_role.name
    assert len(store.reads) == 1


async def test_new_connections_take_the_rotated_password_once_the_ttl_has_passed(
    db: DbHandler, pg_role: Role, store: SecretStore, clock: FakeClock
) -> None:
    await pg_role.rotate(password("pg2"))
    store.secrets["onex/db"] = {"password": pg_role.password}
    clock.advance(TTL)
    assert await pg_role.end_sessions() == 1
    assert await who(db) == pg_role.name
    assert len(store.reads) == 2  # read again for the TTL, never refused


async def test_a_refused_password_is_read_again_at_once_and_tried_once_more(
    db: DbHandler, pg_role: Role, store: SecretStore, caplog: pytest.LogCaptureFixture
) -> None:
    await pg_role.rotate(password("pg2"))
    store.secrets["onex/db"] = {"password": pg_role.password}
    assert await pg_role.end_sessions() == 1
    with caplog.at_level(logging.WARNING):
        assert await who(db) == pg_role.name  # the TTL has not passed: the refusal re-read
    assert len(store.reads) == 2
    assert "refused the password from vault:onex/db#password (28P01)" in caplog.text


async def test_a_password_still_refused_after_the_re_read_fails_without_showing_it(
    db: DbHandler, pg_role: Role, store: SecretStore, caplog: pytest.LogCaptureFixture
) -> None:
    await pg_role.rotate(password("pg3"))  # Vault was not updated
    assert await pg_role.end_sessions() == 1
    with caplog.at_level(logging.WARNING), pytest.raises(HandlerExecutionError) as raised:
        await who(db)
    assert raised.value.details["sqlstate"] == "28P01"
    # one re-read per refused connection (asyncpg's pool also retries its floor connection
    # in the background, with a backoff): never a loop of reads
    refusals = [r for r in caplog.records if r.name.endswith("db_rotation")]
    assert len(refusals) >= 1
    assert len(store.reads) == 1 + len(refusals)
    assert CANARY not in str(raised.value.context()) + caplog.text
