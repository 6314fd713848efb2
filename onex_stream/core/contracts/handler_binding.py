"""Per-handler binding in a runtime contract: type plus its validated policy config."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field, model_validator

from onex_stream.core.contracts.strict import StrictModel
from onex_stream.core.enums import EnumHandlerType


class ModelRetryPolicy(StrictModel):
    """How a failed handler call is retried (schema 2.0.0)."""

    max_retries: int = Field(default=3, ge=0, le=10)
    backoff_strategy: Literal["fixed", "exponential"] = "exponential"
    base_delay_ms: int = Field(default=100, ge=0)
    max_delay_ms: int = Field(default=5000, ge=0)
    # http POST/PATCH are retried only when the endpoint is known to be idempotent
    retry_non_idempotent: bool = False


class ModelCircuitBreaker(StrictModel):
    """When a handler's circuit opens and how long it stays open (schema 2.0.0)."""

    failure_threshold: int = Field(default=5, ge=1)
    reset_timeout_ms: int = Field(default=30000, ge=1)


class HandlerSettings(StrictModel):
    """The config keys every handler shares, each declared here once with its default.

    - ``timeout_ms``: the budget of one call (``execute``), waiting for a pooled
      connection included.
    - ``connect_timeout_ms``: the budget of opening one connection (the pool at
      ``initialize``); separate, so a short call budget never makes the start fail. A
      connection opened during a call is bounded by both.
    - ``pool_size``: the most connections the handler keeps open to its backend at once.
      ``None`` here means "the handler's own default": a handler's settings class
      overrides it when its backend needs another (db: 5, http: 100).

    Handler settings classes extend this (unknown keys refused); so does
    ``ModelHandlerConfig``, the contract's view, which lets handler-specific keys through.
    """

    timeout_ms: int = Field(default=30000, ge=1)
    connect_timeout_ms: int = Field(default=10000, ge=1)
    pool_size: int | None = Field(default=None, ge=1)


class ModelHandlerConfig(HandlerSettings):
    """A handler's ``config``: the shared keys and policies, plus handler-specific keys.

    The shared and policy keys are validated here; the handler-specific ones (``dsn``,
    ``allowed_hosts``, ``address``...) are validated by the handler itself.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    retry_policy: ModelRetryPolicy | None = None
    rate_limit_per_second: float | None = Field(default=None, gt=0)
    circuit_breaker: ModelCircuitBreaker | None = None

    def handler_settings(self) -> dict[str, object]:
        """What ``ProtocolHandler.initialize`` receives: the handler-specific keys,
        ``timeout_ms`` and the other shared keys the contract gives (``HandlerSettings``);
        retry, rate-limit and circuit breaker settings are applied around the handler,
        not by it."""
        shared = set(HandlerSettings.model_fields)
        given = self.model_dump(include=shared, exclude_unset=True, exclude_none=True)
        return {"timeout_ms": self.timeout_ms, **given, **(self.model_extra or {})}


class ModelHandlerBindingConfig(StrictModel):
    """One entry of ``runtime.handlers``."""

    type: EnumHandlerType
    name: str | None = None
    enabled: bool = True
    config: ModelHandlerConfig = Field(default_factory=ModelHandlerConfig)

    @model_validator(mode="after")
    def _default_name(self) -> ModelHandlerBindingConfig:
        if self.name is None:
            object.__setattr__(self, "name", self.type.value)
        return self
