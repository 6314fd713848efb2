"""Retry budgets that fit Kafka: a handler's worst case against the consumer's limits."""

from __future__ import annotations

import math
from dataclasses import dataclass

from onex_stream.core.contracts.handler_binding import ModelHandlerBindingConfig, ModelRetryPolicy
from onex_stream.core.contracts.runtime_contract import ModelRuntimeSection

# Faust's ``broker_max_poll_interval`` default (the host does not change it): 1000 s
MAX_POLL_INTERVAL_MS = 1_000_000


def backoff_cap_ms(policy: ModelRetryPolicy, retry: int) -> int:
    """The longest wait before retry ``retry`` (0-based): the backoff, capped, before jitter."""
    exponent = retry if policy.backoff_strategy == "exponential" else 0
    return min(policy.max_delay_ms, policy.base_delay_ms * (1 << exponent))


def backoff_caps_ms(policy: ModelRetryPolicy) -> list[int]:
    """The longest wait before each retry."""
    return [backoff_cap_ms(policy, retry) for retry in range(policy.max_retries)]


@dataclass(frozen=True)
class Budget:
    """One handler's worst case, and what the consumer allows for it.

    - ``envelope_ms``: one envelope, every attempt waiting for its rate-limit token (at
      most ``timeout_ms``, when a rate limit is set) and timing out, every backoff at its
      cap;
    - ``rounds``: the envelopes one partition may hold in flight (a fetched batch,
      ``max_inflight_envelopes // 4``) divided among ``max_concurrent_operations`` slots;
    - the batch (``rounds * envelope_ms``) must finish within Faust's poll interval
      (1000 s), and the envelopes running at once (``envelope_ms``, they run in parallel)
      within ``rebalance_timeout_ms``: a revoked partition's in-flight work finishes before
      the worker rejoins. ``session_timeout_ms`` is kept by background heartbeats and does
      not bound processing.
    """

    handler: str
    timeout_ms: int
    attempts: int
    backoff_ms: list[int]
    wait_ms: int
    batch: int
    concurrency: int
    rebalance_timeout_ms: int

    @property
    def envelope_ms(self) -> int:
        """The worst case of one envelope."""
        return (self.wait_ms + self.timeout_ms) * self.attempts + sum(self.backoff_ms)

    @property
    def rounds(self) -> int:
        """How many envelopes run one after the other on one slot, at most."""
        return math.ceil(self.batch / self.concurrency)

    def problem(self) -> str | None:
        """Why the budget does not fit, with the arithmetic; ``None`` when it fits."""
        sum_text = " + ".join(map(str, self.backoff_ms)) or "0"
        attempt = f"({self.wait_ms} rate-limit wait + {self.timeout_ms})" if self.wait_ms else ""
        envelope = (
            f"{attempt or self.timeout_ms} x {self.attempts} attempts + ({sum_text}) backoff "
            f"= {self.envelope_ms} ms per envelope"
        )
        if self.envelope_ms > self.rebalance_timeout_ms:
            return (
                f"handler {self.handler}: {envelope} exceeds "
                f"rebalance_timeout_ms {self.rebalance_timeout_ms}"
            )
        batch = self.rounds * self.envelope_ms
        if batch > MAX_POLL_INTERVAL_MS:
            return (
                f"handler {self.handler}: {envelope} x {self.rounds} "
                f"(batch {self.batch} / max_concurrent_operations {self.concurrency}) "
                f"= {batch} ms exceeds the poll interval {MAX_POLL_INTERVAL_MS} ms"
            )
        return None


def budget(runtime: ModelRuntimeSection, binding: ModelHandlerBindingConfig) -> Budget | None:
    """The worst case of a handler with a retry policy (``None`` without one: its worst
    case is its own ``timeout_ms``, which the contract author sets directly)."""
    config, bus = binding.config, runtime.event_bus.config
    policy = config.retry_policy
    if policy is None:
        return None
    return Budget(
        handler=str(binding.name),
        timeout_ms=config.timeout_ms,
        attempts=policy.max_retries + 1,
        backoff_ms=backoff_caps_ms(policy),
        wait_ms=config.timeout_ms if config.rate_limit_per_second else 0,
        batch=max(1, bus.max_inflight_envelopes // 4),
        concurrency=runtime.max_concurrent_operations,
        rebalance_timeout_ms=bus.rebalance_timeout_ms,
    )


def budget_problems(runtime: ModelRuntimeSection) -> list[tuple[int, str]]:
    """``(index in runtime.handlers, message)`` of every handler whose budget does not fit."""
    found = []
    for index, binding in enumerate(runtime.handlers):
        plan = budget(runtime, binding)
        problem = plan.problem() if plan is not None else None
        if problem is not None:
            found.append((index, problem))
    return found
