"""with_policies stacks what a binding enables, in the documented order."""

from __future__ import annotations

from typing import Any

from onex_stream.core.contracts.handler_binding import ModelHandlerBindingConfig
from onex_stream.core.ports import HandlerPort
from onex_stream.infra.handlers.decorator import HandlerDecorator
from onex_stream.infra.handlers.policies import with_policies
from tests.infra.handlers.policies.scripted import Scripted


def layers(handler: HandlerPort) -> list[str]:
    names = []
    while isinstance(handler, HandlerDecorator):
        names.append(type(handler).__name__)
        handler = handler.inner
    return names


def binding(**config: Any) -> ModelHandlerBindingConfig:
    return ModelHandlerBindingConfig.model_validate({"type": "http", "config": config})


def test_every_policy_is_stacked_rate_limit_outermost_timeout_innermost() -> None:
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
        "RateLimitedHandler",
        "CircuitBreakerHandler",
        "RetryingHandler",
        "TimeoutHandler",
    ]


def test_without_policies_only_the_timeout_applies() -> None:
    assert layers(with_policies(Scripted(), binding())) == ["TimeoutHandler"]
