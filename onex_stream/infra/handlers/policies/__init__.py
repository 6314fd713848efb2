"""Handler policies (rate limit, circuit breaker, retry, timeout) stacked from a binding."""

from __future__ import annotations

from onex_stream.core.contracts.handler_binding import ModelHandlerBindingConfig
from onex_stream.core.ports import HandlerPort
from onex_stream.infra.handlers.policies.circuit_breaker import CircuitBreakerHandler, CircuitState
from onex_stream.infra.handlers.policies.rate_limit import RateLimitedHandler
from onex_stream.infra.handlers.policies.retry import RetryingHandler
from onex_stream.infra.handlers.policies.timeout import TimeoutHandler
from onex_stream.infra.observability.metrics import HostMetrics
from onex_stream.spi import ProtocolHandler

__all__ = [
    "CircuitBreakerHandler",
    "CircuitState",
    "RateLimitedHandler",
    "RetryingHandler",
    "TimeoutHandler",
    "with_policies",
]


def with_policies(
    handler: HandlerPort, binding: ModelHandlerBindingConfig, metrics: HostMetrics | None = None
) -> HandlerPort:
    """``handler`` inside the policies its binding's config enables, outermost first:

    circuit breaker -> retry -> rate limit -> timeout -> handler.

    The breaker sees one outcome per call, after its retries (an open circuit is never
    retried, and costs no token); the rate limit counts attempts, retries included, so the
    backend never sees more than the bucket allows (a refused attempt is not retried and
    never counts as a backend failure); the timeout (always on, ``timeout_ms``) bounds each
    attempt: the handler's own when it bounds its calls itself (``bounds_own_calls``),
    else ``TimeoutHandler``.
    """
    config = binding.config
    wrapped: HandlerPort = handler
    if not (isinstance(handler, ProtocolHandler) and handler.bounds_own_calls):
        wrapped = TimeoutHandler(handler, config.timeout_ms)
    if config.rate_limit_per_second is not None:
        rate = config.rate_limit_per_second
        wrapped = RateLimitedHandler(wrapped, rate, config.timeout_ms, metrics)
    if config.retry_policy is not None:
        wrapped = RetryingHandler(wrapped, config.retry_policy, metrics)
    if config.circuit_breaker is not None:
        wrapped = CircuitBreakerHandler(wrapped, config.circuit_breaker, metrics)
    return wrapped
