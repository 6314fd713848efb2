"""ModelRuntimeHostContract: which bus, handlers and nodes a runtime host runs."""

from __future__ import annotations

from ipaddress import ip_address

from pydantic import Field, field_validator, model_validator

from onex_stream.core.contracts.event_bus import (
    SLUG_PATTERN,
    ModelEventBusConfig,
    ModelSubscription,
)
from onex_stream.core.contracts.handler_binding import ModelHandlerBindingConfig
from onex_stream.core.contracts.idempotency import ModelIdempotencySettings
from onex_stream.core.contracts.strict import StrictModel


class ModelNodeRef(StrictModel):
    """A hosted node; its contract is ``<nodes_dir>/<slug>.yaml``.

    ``idempotent``: whether a command replayed with the same envelope_id gets the stored
    answer instead of running again (default: EFFECT nodes yes, other kinds no).
    """

    slug: str = Field(pattern=SLUG_PATTERN)
    idempotent: bool | None = None


#: The web server's default address: loopback, so a host started on a laptop or a shared
#: machine exposes nothing. Containers bind every interface (``0.0.0.0``, set by the
#: container contracts and the image's command) so that probes and scrapers reach them.
DEFAULT_WEB_BIND = "127.0.0.1"
_BIND_PATTERN = r"^(\[?[0-9A-Fa-f:.]+\]?|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)$"


class ModelEndpointSettings(StrictModel):
    """Health and metrics HTTP endpoints (served by the worker's web server).

    ``bind`` is the address the web server listens on: ``127.0.0.1`` (the default) for
    dev hosts, ``0.0.0.0`` in containers (probes and Prometheus reach the pod's address);
    ``omnibase-runtime-host --web-bind`` and ``faust worker --web-bind`` override it.
    """

    enabled: bool = True
    port: int = Field(default=6066, ge=0, le=65535)
    bind: str = Field(default=DEFAULT_WEB_BIND, pattern=_BIND_PATTERN, max_length=253)

    @field_validator("bind")
    @classmethod
    def _bind_is_an_address(cls, value: str) -> str:
        literal = value.strip("[]")
        if ":" in literal or literal.replace(".", "").isdigit():
            ip_address(literal)  # raises ValueError on a malformed IP literal
        return literal


class ModelMetricsSettings(StrictModel):
    """``/metrics``, on the worker's one web server (``health.port``); lag and handler
    gauges are refreshed every ``refresh_seconds``. ``port``, if given, must equal
    ``health.port``."""

    enabled: bool = True
    port: int | None = Field(default=None, ge=0, le=65535)
    refresh_seconds: float = Field(default=5.0, gt=0, le=5.0)


class ModelRuntimeSection(StrictModel):
    """The ``runtime`` section of a runtime host contract."""

    name: str = Field(pattern=SLUG_PATTERN)
    version: str = "1.0.0"
    description: str = ""
    tenant_id: str | None = Field(default=None, pattern=SLUG_PATTERN)
    event_bus: ModelEventBusConfig = Field(default_factory=ModelEventBusConfig)
    handlers: list[ModelHandlerBindingConfig] = Field(default_factory=list)
    nodes: list[ModelNodeRef] = Field(default_factory=list)
    nodes_dir: str = "../nodes"
    max_concurrent_operations: int = Field(default=1, ge=1, le=10000)
    shutdown_timeout_seconds: float = Field(default=30.0, gt=0)
    health: ModelEndpointSettings = Field(default_factory=ModelEndpointSettings)
    metrics: ModelMetricsSettings = Field(default_factory=ModelMetricsSettings)
    idempotency: ModelIdempotencySettings = Field(default_factory=ModelIdempotencySettings)

    @model_validator(mode="after")
    def _one_web_server(self) -> ModelRuntimeSection:
        if self.metrics.port is not None and self.metrics.port != self.health.port:
            raise ValueError(
                f"metrics.port ({self.metrics.port}) differs from health.port "
                f"({self.health.port}): the worker serves /metrics and /health/* on one "
                "web server; drop metrics.port or make them equal"
            )
        return self

    @property
    def consumer_group(self) -> str:
        """Kafka consumer group (= Faust app id); defaults to the runtime name."""
        return self.event_bus.config.consumer_group or self.name

    @property
    def subscriptions(self) -> list[ModelSubscription]:
        """The command topics consumed, with their event and dead-letter topics."""
        settings = self.event_bus.config
        if settings.subscriptions is not None:
            return list(settings.subscriptions)
        if settings.topics is not None:
            return [settings.topics]
        return [ModelSubscription(input=f"onex.{self.tenant_id or 'local'}.{self.name}.cmd.v1")]


class ModelRuntimeHostContract(StrictModel):
    """A runtime host contract file (schema 1.x = MVP, 2.x = Beta)."""

    schema_version: str = Field(pattern=r"^\d+\.\d+\.\d+$")
    runtime: ModelRuntimeSection
