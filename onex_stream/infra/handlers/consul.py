"""ConsulHandler: consul.* service registration and discovery over Consul's async HTTP API."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator, Mapping
from typing import Any, ClassVar, Literal
from urllib.parse import quote
from uuid import uuid4

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr, model_validator

from onex_stream.core import errors
from onex_stream.core.contracts.handler_binding import HandlerSettings
from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.ports import HandlerResult
from onex_stream.infra.handlers import common
from onex_stream.infra.handlers.json_api import Answer, JsonApi
from onex_stream.infra.secret_cache import RotatingSecret
from onex_stream.spi import ProtocolHandler

logger = logging.getLogger(__name__)

OPERATIONS = (
    "consul.register_service",
    "consul.deregister_service",
    "consul.get_service",
    "consul.list_services",
    "consul.health_check_service",
)
_NAME = r"^[A-Za-z0-9_.:-]+$"
_DURATION = r"^[0-9]+(ns|us|ms|s|m|h)$"
_SEVERITY = {"passing": 0, "warning": 1, "critical": 2, "maintenance": 2}


class ConsulSettings(HandlerSettings):
    """The consul handler's config: ``address``, ``token`` (resolved from ``token_ref``;
    a ``RotatingSecret`` for ``vault:``), ``datacenter`` (sent as ``dc`` to the catalog
    and health endpoints)."""

    address: AnyHttpUrl
    token: SecretStr | RotatingSecret | None = None
    datacenter: str | None = Field(default=None, pattern=_NAME)


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Check(_Payload):
    """A service check: ``http`` (URL) or ``tcp`` (host:port), run every ``interval``."""

    http: str | None = None
    tcp: str | None = None
    interval: str = Field(pattern=_DURATION)
    timeout: str | None = Field(default=None, pattern=_DURATION)
    deregister_critical_service_after: str | None = Field(default=None, pattern=_DURATION)

    @model_validator(mode="after")
    def _one_target(self) -> Check:
        if (self.http is None) == (self.tcp is None):
            raise ValueError("give exactly one of http or tcp")
        return self

    def body(self) -> dict[str, str]:
        """The check as Consul's register body spells it."""
        fields = {
            "HTTP": self.http,
            "TCP": self.tcp,
            "Interval": self.interval,
            "Timeout": self.timeout,
            "DeregisterCriticalServiceAfter": self.deregister_critical_service_after,
        }
        return {key: value for key, value in fields.items() if value is not None}


class RegisterService(_Payload):
    """consul.register_service (``service_id`` defaults to ``<name>-<random>``)."""

    name: str = Field(pattern=_NAME)
    service_id: str | None = Field(default=None, pattern=_NAME)
    address: str | None = None
    port: int | None = Field(default=None, ge=1, le=65535)
    tags: list[str] = Field(default_factory=list)
    meta: dict[str, str] = Field(default_factory=dict)
    check: Check | None = None


class ServiceId(_Payload):
    """consul.deregister_service."""

    service_id: str = Field(pattern=_NAME)


class ServiceName(_Payload):
    """consul.get_service (``passing_only``, default true) and consul.health_check_service."""

    name: str = Field(pattern=_NAME)
    passing_only: bool = True


class ConsulHandler(ProtocolHandler):
    """Registers, deregisters and discovers services through a Consul agent.

    Registration goes to the local agent (``/v1/agent/...``); discovery reads the health
    and catalog endpoints of the configured ``datacenter``. ``health_check_service``
    reports the worst check status, and ``critical`` for a service without checks.
    A ``vault:`` token rotates: each request sends its current value (read again after the
    vault handler's ``secret_ttl_seconds``).
    """

    supported_operations = frozenset(OPERATIONS)
    bounds_own_calls = True  # every await of execute runs within timeout_ms
    #: config keys that, given as ``vault:`` references, arrive as ``RotatingSecret``
    rotating_secrets: ClassVar[frozenset[str]] = frozenset({"token"})

    def __init__(self) -> None:
        self._settings: ConsulSettings | None = None
        self._api: JsonApi | None = None

    @property
    def handler_type(self) -> EnumHandlerType:
        """Always ``EnumHandlerType.CONSUL``."""
        return EnumHandlerType.CONSUL

    async def initialize(self, config: Mapping[str, Any]) -> None:
        """Validate the config and create the client (no request is made)."""
        settings = self._settings = common.load_settings(ConsulSettings, config, self.handler_type)
        token = settings.token.get_secret_value() if isinstance(settings.token, SecretStr) else ""
        self._api = JsonApi(
            "consul",
            str(settings.address),
            timeout_ms=settings.timeout_ms,
            connect_timeout_ms=settings.connect_timeout_ms,
            headers={"X-Consul-Token": token} if token else {},
        )

    async def shutdown(self) -> None:
        """Close the client."""
        if self._api is not None:
            await self._api.close()

    async def execute(self, envelope: ModelOnexEnvelope) -> HandlerResult:
        """Perform one consul operation."""
        operation = common.require_operation(envelope, self.supported_operations, self.handler_type)
        parse, kind = common.parse_payload, self.handler_type
        with self._mapped(envelope):
            api, settings = self._ready()
            async with asyncio.timeout(settings.timeout_ms / 1000):
                if operation == "consul.register_service":
                    return await self._register(api, parse(RegisterService, envelope, kind))
                if operation == "consul.deregister_service":
                    service_id = parse(ServiceId, envelope, kind).service_id
                    path = f"/v1/agent/service/deregister/{quote(service_id)}"
                    await self._call(api, "PUT", path)
                    return {"service_id": service_id, "deregistered": True}
                if operation == "consul.list_services":
                    parse(_Payload, envelope, kind)
                    answer = await self._call(api, "GET", "/v1/catalog/services", params=self._dc())
                    return {"services": answer.body or {}}
                target = parse(ServiceName, envelope, kind)
                if operation == "consul.get_service":
                    return await self._instances(api, target)
                return await self._health(api, target.name)

    async def health_check(self) -> dict[str, Any]:
        """Healthy while the client is open (no request is made)."""
        healthy = self._api is not None and self._api.is_open
        return {"healthy": healthy, "handler_type": self.handler_type.value}

    def describe(self) -> dict[str, Any]:
        """Operations, payload fields and response shapes."""
        return {
            "handler_type": self.handler_type.value,
            "supported_operations": sorted(self.supported_operations),
            "required_payload_fields": {
                "consul.register_service": ["name"],
                "consul.deregister_service": ["service_id"],
                "consul.get_service": ["name"],
                "consul.list_services": [],
                "consul.health_check_service": ["name"],
            },
            "optional_payload_fields": [
                "service_id",
                "address",
                "port",
                "tags",
                "meta",
                "check {http|tcp, interval, timeout, deregister_critical_service_after}",
                "passing_only",
            ],
            "response_shape": {
                "consul.register_service": "{service_id}",
                "consul.deregister_service": "{service_id, deregistered}",
                "consul.get_service": "{instances: [{service_id, address, port, tags, meta,"
                " node}]}",
                "consul.list_services": "{services: {name: [tags]}}",
                "consul.health_check_service": "{status, checks: [{service_id, status, output}]}",
            },
        }

    async def _register(self, api: JsonApi, payload: RegisterService) -> dict[str, Any]:
        service_id = payload.service_id or f"{payload.name}-{uuid4().hex[:12]}"
        body: dict[str, Any] = {
            "ID": service_id,
            "Name": payload.name,
            "Tags": payload.tags,
            "Meta": payload.meta,
        }
        if payload.address is not None:
            body["Address"] = payload.address
        if payload.port is not None:
            body["Port"] = payload.port
        if payload.check is not None:
            body["Check"] = payload.check.body()
        await self._call(api, "PUT", "/v1/agent/service/register", body=body)
        return {"service_id": service_id}

    async def _instances(self, api: JsonApi, target: ServiceName) -> dict[str, Any]:
        params: dict[str, str | int] = {**self._dc()}
        if target.passing_only:
            params["passing"] = "true"
        path = f"/v1/health/service/{quote(target.name)}"
        answer = await self._call(api, "GET", path, params=params)
        instances = []
        for entry in answer.body or []:
            service, node = entry["Service"], entry["Node"]
            instances.append(
                {
                    "service_id": service["ID"],
                    "address": service.get("Address") or node.get("Address"),
                    "port": service.get("Port"),
                    "tags": service.get("Tags") or [],
                    "meta": service.get("Meta") or {},
                    "node": node.get("Node"),
                }
            )
        return {"instances": instances}

    async def _health(self, api: JsonApi, name: str) -> dict[str, Any]:
        path = f"/v1/health/checks/{quote(name)}"
        answer = await self._call(api, "GET", path, params=self._dc())
        checks = [
            {"service_id": c.get("ServiceID"), "status": c["Status"], "output": c.get("Output")}
            for c in answer.body or []
        ]
        worst = max((_SEVERITY.get(c["status"], 2) for c in checks), default=2)
        status: Literal["passing", "warning", "critical"] = ("passing", "warning", "critical")[
            worst
        ]
        return {"status": status, "checks": checks}

    async def _call(self, api: JsonApi, method: str, path: str, **kwargs: Any) -> Answer:
        """One request, with the current value of a rotating token."""
        token = self._settings.token if self._settings else None
        if isinstance(token, RotatingSecret):
            kwargs["headers"] = {"X-Consul-Token": await token()}
        return await api.call(method, path, **kwargs)

    def _dc(self) -> dict[str, str | int]:
        datacenter = self._settings.datacenter if self._settings else None
        return {"dc": datacenter} if datacenter else {}

    def _ready(self) -> tuple[JsonApi, ConsulSettings]:
        if self._api is None or not self._api.is_open or self._settings is None:
            raise errors.HandlerExecutionError("the consul handler is not initialized")
        return self._api, self._settings

    @contextlib.contextmanager
    def _mapped(self, envelope: ModelOnexEnvelope) -> Iterator[None]:
        """Timeouts and malformed answers as ONEX errors, with the envelope's context."""
        try:
            yield
        except (errors.RuntimeHostError, TimeoutError, KeyError, TypeError, AttributeError) as exc:
            if isinstance(exc, errors.RuntimeHostError):
                error = exc
            elif isinstance(exc, TimeoutError):
                ms = self._settings.timeout_ms if self._settings else 0
                error = errors.HandlerTimeoutError(f"consul did not answer within {ms} ms")
            else:
                error = errors.HandlerExecutionError(
                    f"consul answered in an unexpected shape ({type(exc).__name__})"
                )
            raise common.failure(error, envelope, self.handler_type, logger) from None
