"""SecretCache and RotatingSecret: a TTL on an injected clock, reads counted, values hidden."""

from __future__ import annotations

import asyncio
import logging

import pytest
from pydantic import BaseModel, ConfigDict

from onex_stream.core.errors import HandlerExecutionError
from onex_stream.infra.secret_cache import (
    DEFAULT_SECRET_TTL_SECONDS,
    RETRY_SECONDS,
    RotatingSecret,
    SecretCache,
)
from tests.support.rotation import FakeClock, SecretStore, rotating

VALUE = "cached-value-91d2"


@pytest.fixture
def store() -> SecretStore:
    """One secret, ``onex/db`` = {password: VALUE}."""
    return SecretStore({"onex/db": {"password": VALUE}})


def test_the_default_ttl_is_five_minutes() -> None:
    assert DEFAULT_SECRET_TTL_SECONDS == 300


async def test_a_secret_is_read_again_only_once_its_ttl_has_passed(store: SecretStore) -> None:
    clock = FakeClock()
    cache = SecretCache(store.read, ttl=60, clock=clock)
    assert (await cache.get("onex/db"))["password"] == VALUE
    store.secrets["onex/db"] = {"password": "rotated"}
    clock.advance(59.9)
    assert (await cache.get("onex/db"))["password"] == VALUE
    assert (store.reads, cache.reads) == (["onex/db"], 1)
    clock.advance(0.1)
    assert (await cache.get("onex/db"))["password"] == "rotated"
    assert (await cache.get("onex/db"))["password"] == "rotated"
    assert (store.reads, cache.reads) == (["onex/db", "onex/db"], 2)


async def test_a_fresh_read_bypasses_the_ttl(store: SecretStore) -> None:
    cache = SecretCache(store.read, ttl=60, clock=FakeClock())
    await cache.get("onex/db")
    store.secrets["onex/db"] = {"password": "rotated"}
    assert (await cache.get("onex/db", fresh=True))["password"] == "rotated"
    assert len(store.reads) == 2


async def test_a_ttl_of_zero_reads_at_every_use(store: SecretStore) -> None:
    cache = SecretCache(store.read, ttl=0, clock=FakeClock())
    for _ in range(3):
        await cache.get("onex/db")
    assert len(store.reads) == 3


async def test_concurrent_users_of_an_expired_secret_share_one_read(store: SecretStore) -> None:
    clock = FakeClock()
    cache = SecretCache(store.read, ttl=60, clock=clock)
    await cache.get("onex/db")
    clock.advance(61)
    await asyncio.gather(*(cache.get("onex/db") for _ in range(5)))
    assert len(store.reads) == 2


async def test_concurrent_fresh_reads_after_one_refusal_share_one_read(
    store: SecretStore,
) -> None:
    cache = SecretCache(store.read, ttl=60, clock=FakeClock())
    await cache.get("onex/db")
    await asyncio.gather(*(cache.get("onex/db", fresh=True) for _ in range(5)))
    assert len(store.reads) == 2


async def test_a_failed_re_read_keeps_the_stale_value_and_retries_later(
    store: SecretStore, caplog: pytest.LogCaptureFixture
) -> None:
    clock = FakeClock()
    cache = SecretCache(store.read, ttl=600, clock=clock)
    await cache.get("onex/db")
    clock.advance(601)
    store.down = True
    with caplog.at_level(logging.WARNING):
        assert (await cache.get("onex/db"))["password"] == VALUE
    assert "onex/db could not be read again" in caplog.text
    assert VALUE not in caplog.text
    clock.advance(RETRY_SECONDS - 1)
    await cache.get("onex/db")
    assert len(store.reads) == 2  # not hammering a Vault that is down
    store.down = False
    store.secrets["onex/db"] = {"password": "rotated"}
    clock.advance(1)
    assert (await cache.get("onex/db"))["password"] == "rotated"
    assert len(store.reads) == 3


async def test_a_failed_first_or_fresh_read_raises(store: SecretStore) -> None:
    cache = SecretCache(store.read, ttl=60, clock=FakeClock())
    with pytest.raises(HandlerExecutionError, match="no secret at secret/data/onex/none"):
        await cache.get("onex/none")
    await cache.get("onex/db")
    store.down = True
    with pytest.raises(HandlerExecutionError, match="unreachable"):
        await cache.get("onex/db", fresh=True)


async def test_a_rotating_secret_reads_through_the_cache_and_refreshes_on_demand(
    store: SecretStore,
) -> None:
    cache = SecretCache(store.read, ttl=60, clock=FakeClock())
    secret = rotating(cache, "vault:onex/db#password")
    assert await secret() == VALUE
    store.secrets["onex/db"] = {"password": "rotated"}
    assert await secret() == VALUE
    assert await secret.refresh() == "rotated"
    assert await secret() == "rotated"
    assert len(store.reads) == 2


def test_a_rotating_secret_shows_its_reference_never_its_value(store: SecretStore) -> None:
    secret = rotating(SecretCache(store.read, ttl=60), "vault:onex/db#password")
    assert repr(secret) == str(secret) == "RotatingSecret(vault:onex/db#password)"


def test_settings_models_take_a_rotating_secret_as_it_is(store: SecretStore) -> None:
    class Settings(BaseModel):
        model_config = ConfigDict(frozen=True)
        password: str | RotatingSecret

    secret = rotating(SecretCache(store.read, ttl=60), "vault:onex/db#password")
    assert Settings(password=secret).password is secret
    assert Settings(password="plain").password == "plain"
