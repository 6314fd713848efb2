"""The keys every handler shares are declared once (HandlerSettings), defaults included."""

from __future__ import annotations

from typing import Any

import httpx
import pydantic
import pytest

from onex_stream.core.contracts import ModelHandlerConfig
from onex_stream.core.contracts.handler_binding import HandlerSettings
from onex_stream.core.errors import HandlerConfigurationError
from onex_stream.infra.handlers.db import DbHandler, DbSettings
from onex_stream.infra.handlers.http import HttpHandler, HttpSettings

DSN = "postgresql://onex@db.example/onex"
SHARED = {"timeout_ms", "connect_timeout_ms", "pool_size"}


@pytest.mark.parametrize(
    ("model", "overrides"),
    [(DbSettings, {"pool_size"}), (HttpSettings, set()), (ModelHandlerConfig, set())],
)
def test_every_settings_model_extends_the_one_base(
    model: type[HandlerSettings], overrides: set[str]
) -> None:
    assert issubclass(model, HandlerSettings)
    own = set(vars(model).get("__annotations__", {}))
    assert own & SHARED == overrides  # only an override with a reason redeclares a key


def test_the_shared_keys_and_their_defaults() -> None:
    assert set(HandlerSettings.model_fields) == SHARED
    settings = HandlerSettings()
    assert (settings.timeout_ms, settings.connect_timeout_ms, settings.pool_size) == (
        30000,
        10000,
        None,
    )
    assert (DbSettings(dsn=DSN).timeout_ms, HttpSettings().timeout_ms) == (30000, 30000)
    assert DbSettings(dsn=DSN).connect_timeout_ms == HttpSettings().connect_timeout_ms == 10000


def test_pool_size_is_the_handler_s_own_default_unless_given() -> None:
    assert DbSettings(dsn=DSN).pool_size == 5  # the db override: one server process each
    assert HttpSettings().connection_limit() == 100
    assert DbSettings(dsn=DSN, pool_size=2).pool_args()["max_size"] == 2
    assert HttpSettings(pool_size=2).connection_limit() == 2
    assert HttpSettings(pool_size=2, max_connections=7).connection_limit() == 7


def test_the_db_pool_connects_within_connect_timeout_ms_not_timeout_ms() -> None:
    args = DbSettings(dsn=DSN, timeout_ms=50).pool_args()
    assert args["timeout"] == 10.0
    assert DbSettings(dsn=DSN, timeout_ms=50, connect_timeout_ms=2500).pool_args()["timeout"] == 2.5


def test_http_connects_within_connect_timeout_ms_and_reads_within_timeout_ms() -> None:
    assert HttpSettings(timeout_ms=50).timeouts() == httpx.Timeout(0.05, connect=10.0)
    timeouts = HttpSettings(timeout_ms=4000, connect_timeout_ms=250).timeouts()
    assert (timeouts.connect, timeouts.read, timeouts.write, timeouts.pool) == (0.25, 4, 4, 4)


@pytest.mark.parametrize("handler", [DbHandler, HttpHandler])
@pytest.mark.parametrize("key", sorted(SHARED))
async def test_a_bad_shared_key_is_refused_by_every_handler(
    handler: type[DbHandler | HttpHandler], key: str
) -> None:
    with pytest.raises(HandlerConfigurationError) as raised:
        await handler().initialize({"dsn": DSN, key: 0} if handler is DbHandler else {key: 0})
    assert raised.value.details["fields"] == [key]


@pytest.mark.parametrize(
    ("config", "passed"),
    [
        ({}, {"timeout_ms": 30000}),
        ({"dsn": DSN}, {"timeout_ms": 30000, "dsn": DSN}),
        ({"pool_size": None}, {"timeout_ms": 30000}),
        (
            {"timeout_ms": 50, "connect_timeout_ms": 900, "pool_size": 3},
            {"timeout_ms": 50, "connect_timeout_ms": 900, "pool_size": 3},
        ),
    ],
)
def test_the_contract_passes_the_shared_keys_it_was_given(
    config: dict[str, Any], passed: dict[str, Any]
) -> None:
    assert ModelHandlerConfig.model_validate(config).handler_settings() == passed


def test_the_contract_validates_the_shared_keys() -> None:
    with pytest.raises(pydantic.ValidationError, match="connect_timeout_ms"):
        ModelHandlerConfig.model_validate({"connect_timeout_ms": 0})
