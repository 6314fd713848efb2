"""with_policies stacks what a binding enables, in the documented order."""

from __future__ import annotations

from typing import Any

import pytest

from onex_stream.core.contracts.handler_binding import ModelHandlerBindingConfig
from onex_stream.core.errors import RateLimitedError
from onex_stream.core.ports import HandlerPort
from onex_stream.infra.handlers.consul import ConsulHandler
from onex_stream.infra.handlers.db import DbHandler
from onex_stream.infra.handlers.decorator import HandlerDecorator
from onex_stream.infra.handlers.http import HttpHandler
from onex_stream.infra.handlers.policies import with_policies
from onex_stream.infra.handlers.vault import VaultHandler
from onex_stream.spi import ProtocolHandler
from tests.infra.handlers.conftest import command
from tests.infra.handlers.policies.scripted import Scripted


def layers(handler: HandlerPort) -> list[str]:
    names = []
    while isinstance(handler, HandlerDecorator):
        names.append(type(handler).__name__)
        handler = handler.inner
    return names


def binding(**config: Any) -> ModelHandlerBindingConfig:
    return ModelHandlerBindingConfig.model_validate({"type": "http", "config": config})


def test_every_policy_is_stacked_breaker_outermost_and_each_attempt_rate_limited() -> None:
    wrapped = with_policies(
        Scripted(),
        binding(
            timeout_ms=100,
            retry_policy={"max_retries": 1},
            circuit_breaker={"failure_threshold": 2},
            rate_limit_per_second=10,
        ),
    )
    assert layers(wrapped) == [
        "CircuitBreakerHandler",
        "RetryingHandler",
        "RateLimitedHandler",
        "TimeoutHandler",
    ]


def test_without_policies_only_the_timeout_applies() -> None:
    assert layers(with_policies(Scripted(), binding())) == ["TimeoutHandler"]


@pytest.mark.parametrize("handler", [HttpHandler, DbHandler, VaultHandler, ConsulHandler])
def test_a_handler_that_bounds_its_own_calls_gets_no_second_deadline(
    handler: type[ProtocolHandler],
) -> None:
    """The I/O handlers end each call within timeout_ms themselves (their own tests time
    out a silent backend): the policies add no timer of their own around them."""
    assert layers(with_policies(handler(), binding())) == []
    retried = with_policies(handler(), binding(retry_policy={"max_retries": 1}))
    assert layers(retried) == ["RetryingHandler"]


async def test_a_retry_takes_a_rate_limit_token_like_a_first_attempt() -> None:
    """A bucket of one call per second: the retry of a 503 finds no token within the
    20 ms budget, so the backend sees one call and the caller gets RATE_LIMITED."""
    backend = Scripted({"status_code": 503}, {"status_code": 200})
    wrapped = with_policies(
        backend,
        binding(
            timeout_ms=20,
            retry_policy={"max_retries": 3, "base_delay_ms": 1, "max_delay_ms": 1},
            circuit_breaker={"failure_threshold": 1},
            rate_limit_per_second=1,
        ),
    )
    with pytest.raises(RateLimitedError) as refused:
        await wrapped.execute(command("http.get", {"url": "http://backend/"}))
    assert backend.calls == 1
    assert refused.value.details["attempts"] == 2
    assert await wrapped.health_check() == {
        "healthy": True,
        "handler_type": "http",
        "circuit": "closed",
    }
