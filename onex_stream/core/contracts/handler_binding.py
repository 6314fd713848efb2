"""Per-handler binding in a runtime contract: type plus its validated policy config."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from onex_stream.core.enums import EnumHandlerType


class ModelRetryPolicy(BaseModel):
    """How a failed handler call is retried (schema 2.0.0)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_retries: int = Field(default=3, ge=0, le=10)
    backoff_strategy: Literal["fixed", "exponential"] = "exponential"
    base_delay_ms: int = Field(default=100, ge=0)
    max_delay_ms: int = Field(default=5000, ge=0)


class ModelCircuitBreaker(BaseModel):
    """When a handler's circuit opens and how long it stays open (schema 2.0.0)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    failure_threshold: int = Field(default=5, ge=1)
    reset_timeout_ms: int = Field(default=30000, ge=1)


class ModelHandlerConfig(BaseModel):
    """A handler's ``config``: shared policy keys, plus handler-specific keys.

    The policy keys are validated here; the handler-specific ones (``dsn``,
    ``allowed_hosts``, ``address``...) are validated by the handler itself.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    timeout_ms: int = Field(default=30000, ge=1)
    retry_policy: ModelRetryPolicy | None = None
    rate_limit_per_second: float | None = Field(default=None, gt=0)
    circuit_breaker: ModelCircuitBreaker | None = None
    pool_size: int | None = Field(default=None, ge=1)

    def handler_settings(self) -> dict[str, object]:
        """What ``ProtocolHandler.initialize`` receives: the handler-specific keys plus
        ``timeout_ms`` and ``pool_size`` (when given); retry, rate-limit and circuit
        breaker settings are applied around the handler, not by it."""
        settings: dict[str, object] = {"timeout_ms": self.timeout_ms}
        if self.pool_size is not None:
            settings["pool_size"] = self.pool_size
        return {**settings, **(self.model_extra or {})}


class ModelHandlerBindingConfig(BaseModel):
    """One entry of ``runtime.handlers``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: EnumHandlerType
    name: str | None = None
    enabled: bool = True
    config: ModelHandlerConfig = Field(default_factory=ModelHandlerConfig)

    @model_validator(mode="after")
    def _default_name(self) -> ModelHandlerBindingConfig:
        if self.name is None:
            object.__setattr__(self, "name", self.type.value)
        return self
