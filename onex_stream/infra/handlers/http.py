"""HttpHandler: http.* operations on one pooled httpx client that reaches only allowed hosts."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import re
from collections.abc import Mapping
from typing import Annotated, Any

import httpx
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator

from onex_stream.core import errors
from onex_stream.core.contracts.handler_binding import HandlerSettings
from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.ports import HandlerResult
from onex_stream.core.secret_names import SECRET_NAME
from onex_stream.infra.handlers import common
from onex_stream.infra.handlers.http_address_policy import (
    HostPolicy,
    is_public,
    parse_network,
    refused,
)
from onex_stream.infra.handlers.http_transport import guarded_client
from onex_stream.spi import ProtocolHandler

# HostPolicy and is_public live in http_address_policy; re-exported for existing importers
__all__ = ["METHODS", "HostPolicy", "HttpHandler", "HttpRequest", "HttpSettings", "is_public"]

logger = logging.getLogger(__name__)

Primitive = str | int | float | bool | None
Header = Annotated[str, Field(pattern=r"^[\t\x20-\x7e]*$")]  # printable ASCII: no CR/LF

METHODS = {f"http.{verb.lower()}": verb for verb in ("GET", "POST", "PUT", "DELETE", "PATCH")}
_HOST_NAME = re.compile(r"^(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)*$", re.I)
_TOKEN = r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"  # an HTTP header name (RFC 9110 token)
_JSON_TYPE = re.compile(r"^application/([\w.+-]+\+)?json\b", re.I)
# Authorization, Proxy-Authorization, Cookie and any secret-looking name (X-Api-Token...)
_CREDENTIAL_HEADER = SECRET_NAME
DEFAULT_MAX_CONNECTIONS = 100  # httpx's default limit


class HttpSettings(HandlerSettings):
    """The http handler's config: the shared keys, the host policy and the limits.

    ``timeout_ms`` bounds a whole call (redirects included), ``connect_timeout_ms`` each
    connection. ``max_connections`` wins over ``pool_size``; without either, 100.
    ``idempotency_header`` carries the command's envelope_id (unless the payload sets that
    header itself; ``null``: not sent), so a server can drop a replayed request.
    """

    max_connections: int | None = Field(default=None, ge=1)
    idempotency_header: str | None = Field(default="Idempotency-Key", pattern=_TOKEN)
    allowed_hosts: tuple[str, ...] = ()
    max_response_bytes: int = Field(default=10 * 1024 * 1024, ge=1)
    max_redirects: int = Field(default=5, ge=0, le=30)

    @field_validator("allowed_hosts")
    @classmethod
    def _known_forms(cls, hosts: tuple[str, ...]) -> tuple[str, ...]:
        bad = [host for host in hosts if parse_network(host) is None and not _HOST_NAME.match(host)]
        if bad:
            raise ValueError(f"not a host name, *.wildcard or CIDR: {', '.join(bad)}")
        return tuple(host.lower() for host in hosts)

    def connection_limit(self) -> int:
        """The pool's size: ``max_connections``, else ``pool_size``, else httpx's 100."""
        return self.max_connections or self.pool_size or DEFAULT_MAX_CONNECTIONS

    def timeouts(self) -> httpx.Timeout:
        """httpx's timeouts: ``connect_timeout_ms`` to connect, ``timeout_ms`` for the rest."""
        return httpx.Timeout(self.timeout_ms / 1000, connect=self.connect_timeout_ms / 1000)


class HttpRequest(BaseModel):
    """The payload of every http.* operation."""

    model_config = ConfigDict(extra="forbid")

    url: AnyHttpUrl
    headers: dict[Header, Header] | None = None
    params: dict[str, Primitive | list[Primitive]] | None = None
    body: Any = None

    def build(self, client: httpx.AsyncClient, method: str) -> httpx.Request:
        """The request; a text body is sent as is, any other body as JSON."""
        body = {"content" if isinstance(self.body, str) else "json": self.body}
        return client.build_request(
            method, _parsed(str(self.url)), headers=self.headers, params=self.params, **body
        )


class HttpHandler(ProtocolHandler):
    """http.get/post/put/delete/patch; a non-2xx answer is a success reporting its status.

    Secure by default: only hosts the ``HostPolicy`` allows, redirects followed hop by hop
    (each hop re-checked), bodies capped at ``max_response_bytes``, no cookies kept. Once a
    redirect leaves the first request's origin (scheme, host, port), every credential header
    (``_CREDENTIAL_HEADER``: httpx itself drops only Authorization) is dropped from the hop.
    """

    supported_operations = frozenset(METHODS)
    bounds_own_calls = True  # every await of execute runs within timeout_ms

    def __init__(self) -> None:
        self._settings = HttpSettings()
        self._client: httpx.AsyncClient | None = None

    @property
    def handler_type(self) -> EnumHandlerType:
        """Always ``EnumHandlerType.HTTP``."""
        return EnumHandlerType.HTTP

    async def initialize(self, config: Mapping[str, Any]) -> None:
        """Validate the config and create the shared client."""
        self._settings = common.load_settings(HttpSettings, config, self.handler_type)
        policy = HostPolicy(self._settings.allowed_hosts)
        limit, timeouts = self._settings.connection_limit(), self._settings.timeouts()
        self._client = guarded_client(policy, limit, timeouts)

    async def shutdown(self) -> None:
        """Close the client and its connections."""
        if self._client is not None:
            await self._client.aclose()

    async def execute(self, envelope: ModelOnexEnvelope) -> HandlerResult:
        """Send the request (following allowed redirects) and return the answer."""
        operation = common.require_operation(envelope, self.supported_operations, self.handler_type)
        payload = common.parse_payload(HttpRequest, envelope, self.handler_type)
        try:
            client = self._ready_client()
            request = payload.build(client, METHODS[operation])
            if (name := self._settings.idempotency_header) is not None:
                request.headers.setdefault(name, str(envelope.envelope_id))
            async with asyncio.timeout(self._settings.timeout_ms / 1000):
                return await self._send(client, request)
        except (errors.RuntimeHostError, TimeoutError, httpx.HTTPError, OSError) as exc:
            # timeouts, DNS and transport failures as ONEX errors; no backend error escapes
            error = exc if isinstance(exc, errors.RuntimeHostError) else self._translated(exc)
            raise common.failure(error, envelope, self.handler_type, logger) from None

    async def health_check(self) -> dict[str, Any]:
        """Healthy while the client is open (no request is made)."""
        healthy = self._client is not None and not self._client.is_closed
        return {"healthy": healthy, "handler_type": self.handler_type.value}

    def describe(self) -> dict[str, Any]:
        """Operations, payload fields and response shape."""
        return {
            "handler_type": self.handler_type.value,
            "supported_operations": sorted(self.supported_operations),
            "required_payload_fields": {operation: ["url"] for operation in METHODS},
            "optional_payload_fields": ["headers", "params", "body (JSON value or text)"],
            "response_shape": {
                "status_code": "int; non-2xx is a successful call that reports it",
                "headers": "object; repeated headers joined with ', '",
                "body": "decoded JSON for JSON content types, else text",
            },
        }

    def _ready_client(self) -> httpx.AsyncClient:
        if self._client is None or self._client.is_closed:
            raise errors.HandlerExecutionError("the http handler is not initialized")
        return self._client

    async def _send(self, client: httpx.AsyncClient, request: httpx.Request) -> dict[str, Any]:
        hops, origin = self._settings.max_redirects, _origin(request.url)
        for _ in range(hops + 1):
            if request.url.scheme not in ("http", "https"):
                raise refused(f"scheme '{request.url.scheme}' is not allowed", request.url.host)
            response = await client.send(request, stream=True)
            try:
                if response.next_request is None:
                    return await self._read(response)
                request = response.next_request
                if _origin(request.url) != origin:
                    _drop_credentials(request.headers)
            finally:
                await response.aclose()
        raise errors.HandlerExecutionError(
            f"more than {hops} redirects", details={"max_redirects": hops}
        )

    async def _read(self, response: httpx.Response) -> dict[str, Any]:
        cap = self._settings.max_response_bytes
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > cap:
                raise errors.HandlerExecutionError(
                    f"response body exceeds max_response_bytes ({cap})",
                    details={"max_response_bytes": cap, "status_code": response.status_code},
                )
        return {
            "status_code": response.status_code,
            "headers": dict(response.headers),
            "body": _decode(response, bytes(body)),
        }

    def _translated(self, exc: Exception) -> errors.RuntimeHostError:
        ms, name = self._settings.timeout_ms, type(exc).__name__
        if isinstance(exc, httpx.ConnectTimeout):
            ms = self._settings.connect_timeout_ms
            return errors.HandlerTimeoutError(
                f"could not connect within {ms} ms", details={"connect_timeout_ms": ms}
            )
        if isinstance(exc, TimeoutError | httpx.TimeoutException):
            return errors.HandlerTimeoutError(
                f"no answer within {ms} ms", details={"timeout_ms": ms}
            )
        return errors.HandlerExecutionError(
            f"HTTP transport failed ({name})", details={"error": name}
        )


def _parsed(url: str) -> httpx.URL:
    """``url`` as httpx parses it. An endpoint is parsed once and kept (calls to the same
    endpoints skip the parse); a URL with userinfo or a query string, either of which may
    carry a credential, is parsed every time and never kept."""
    return httpx.URL(url) if "@" in url or "?" in url else _endpoint(url)


@functools.lru_cache(maxsize=256)
def _endpoint(url: str) -> httpx.URL:
    return httpx.URL(url)


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port  # httpx gives None for the scheme's default port


def _drop_credentials(headers: httpx.Headers) -> None:
    for name in [name for name in headers if _CREDENTIAL_HEADER.search(name)]:
        del headers[name]


def _decode(response: httpx.Response, raw: bytes) -> Any:
    if _JSON_TYPE.match(response.headers.get("content-type", "")):
        with contextlib.suppress(ValueError):
            return json.loads(raw)
    with contextlib.suppress(LookupError):
        return raw.decode(response.charset_encoding or "utf-8", errors="replace")
    return raw.decode("utf-8", errors="replace")


def _redact_urls(record: logging.LogRecord) -> bool:
    """httpx logs whole URLs: drop their credentials and query strings (they may hold tokens)."""
    if isinstance(record.args, tuple):
        bare = {"query": None, "username": None, "password": None}
        args = record.args
        record.args = tuple(a.copy_with(**bare) if isinstance(a, httpx.URL) else a for a in args)
    return True


logging.getLogger("httpx").addFilter(_redact_urls)
