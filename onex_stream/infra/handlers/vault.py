"""VaultHandler: KV v2 over async httpx (hvac is synchronous: it would block the event loop)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import quote

from onex_stream.core import errors
from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.ports import HandlerResult
from onex_stream.core.secret_refs import SecretRef
from onex_stream.infra.handlers import common
from onex_stream.infra.handlers.json_api import JsonApi
from onex_stream.infra.handlers.vault_models import (
    AppRoleLogin,
    DeleteSecret,
    GetSecret,
    ListSecrets,
    SetSecret,
    VaultSettings,
    clean_path,
)
from onex_stream.infra.secret_cache import RotatingSecret, SecretCache
from onex_stream.spi import ProtocolHandler

logger = logging.getLogger(__name__)

OPERATIONS = ("vault.get_secret", "vault.set_secret", "vault.delete_secret", "vault.list_secrets")


class VaultHandler(ProtocolHandler):
    """vault.get_secret/set_secret/delete_secret/list_secrets on a KV v2 mount.

    A missing secret (or key, or deleted version) is the success answer ``{found: false}``:
    absence is an answer the caller acts on, not a failure of Vault or of the handler.
    Tokens are renewed when half their lease has passed (AppRole logs in again when the
    renewal is refused); values never reach logs or errors. Secrets read for ``vault:``
    references are cached ``secret_ttl_seconds`` (``clock`` time), then read again.
    """

    supported_operations = frozenset(OPERATIONS)
    bounds_own_calls = True  # every await of execute runs within timeout_ms

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._settings: VaultSettings | None = None
        self._api: JsonApi | None = None
        self._token = ""
        self._lease = 0.0  # seconds the token was last granted; 0: it never expires
        self._expires_at = 0.0  # event-loop time
        self._renewable = False
        self._lock = asyncio.Lock()
        self._references: SecretCache | None = None

    @property
    def handler_type(self) -> EnumHandlerType:
        """Always ``EnumHandlerType.VAULT``."""
        return EnumHandlerType.VAULT

    async def initialize(self, config: Mapping[str, Any]) -> None:
        """Validate the config, log in (AppRole) or look the token up; fail fast."""
        settings = self._settings = common.load_settings(VaultSettings, config, self.handler_type)
        namespace = {"X-Vault-Namespace": settings.namespace} if settings.namespace else {}
        self._api = JsonApi(
            "vault",
            str(settings.address),
            timeout_ms=settings.timeout_ms,
            connect_timeout_ms=settings.connect_timeout_ms,
            headers=namespace,
        )
        ttl = settings.secret_ttl_seconds
        self._references = SecretCache(self._secret, ttl, self._clock)
        with self._mapped(None):
            if settings.approle is not None:
                await self._login(settings.approle)
            else:
                self._token = settings.token.get_secret_value() if settings.token else ""
                answer = await self._api.call(
                    "GET", "/v1/auth/token/lookup-self", headers=self._auth()
                )
                data = answer.body["data"]
                self._granted(float(data.get("ttl") or 0), bool(data.get("renewable")))

    async def shutdown(self) -> None:
        """Close the client; forget the token and cached references."""
        if self._api is not None:
            await self._api.close()
        self._token = ""
        if self._references is not None:
            self._references.clear()

    async def execute(self, envelope: ModelOnexEnvelope) -> HandlerResult:
        """Perform one KV v2 operation."""
        operation = common.require_operation(envelope, self.supported_operations, self.handler_type)
        settings = self._ready()
        with self._mapped(envelope):
            async with asyncio.timeout(settings.timeout_ms / 1000):
                if operation == "vault.get_secret":
                    return await self._get(
                        common.parse_payload(GetSecret, envelope, self.handler_type)
                    )
                if operation == "vault.set_secret":
                    return await self._set(
                        common.parse_payload(SetSecret, envelope, self.handler_type)
                    )
                if operation == "vault.delete_secret":
                    payload = common.parse_payload(DeleteSecret, envelope, self.handler_type)
                    return await self._delete(payload)
                return await self._list(
                    common.parse_payload(ListSecrets, envelope, self.handler_type)
                )

    async def read_reference(self, ref: SecretRef, fresh: bool = False) -> str:
        """The value behind ``vault:path#key``: the secret as read within the last
        ``secret_ttl_seconds``, else read again (now, with ``fresh``);
        ``SecretResolutionError`` naming the reference, never a value."""
        try:
            where = f"{self._ready().mount}/data/{clean_path(ref.path)}"
            if self._references is None:
                raise errors.HandlerExecutionError("the vault handler is not initialized")
            data = await self._references.get(ref.path, fresh=fresh)
        except (errors.RuntimeHostError, ValueError) as error:
            message = getattr(error, "message", "not a valid secret path")
            raise _unresolved(ref, message, getattr(error, "details", {})) from None
        value = data.get(ref.key)
        if value is None:
            raise _unresolved(ref, f"no key '{ref.key}' in the secret at {where}", {})
        return value if isinstance(value, str) else str(value)

    def rotating(self, ref: SecretRef) -> RotatingSecret:
        """``ref`` as a secret its consumer reads at each use (``read_reference``)."""
        return RotatingSecret(ref, self.read_reference)

    async def _secret(self, path: str) -> Mapping[str, Any]:
        """The data of the secret at ``path`` (its latest version), for ``SecretCache``."""
        with self._mapped(None):
            answer = await self._get(GetSecret(path=path))
        if not answer["found"]:
            where = f"{self._ready().mount}/data/{clean_path(path)}"
            raise errors.HandlerExecutionError(f"no secret at {where}")
        data: Mapping[str, Any] = answer["data"]
        return data

    async def health_check(self) -> dict[str, Any]:
        """Healthy while the client is open and the token has not expired (no request)."""
        expired = self._lease > 0 and asyncio.get_running_loop().time() >= self._expires_at
        healthy = self._api is not None and self._api.is_open and not expired
        return {"healthy": healthy, "handler_type": self.handler_type.value}

    def describe(self) -> dict[str, Any]:
        """Operations, payload fields and response shapes."""
        return {
            "handler_type": self.handler_type.value,
            "supported_operations": sorted(self.supported_operations),
            "required_payload_fields": {
                "vault.get_secret": ["path"],
                "vault.set_secret": ["path", "data"],
                "vault.delete_secret": ["path"],
                "vault.list_secrets": [],
            },
            "optional_payload_fields": ["key", "version", "cas", "versions"],
            "response_shape": {
                "vault.get_secret": "{found, data, metadata} ({found, value, metadata} with key)",
                "vault.set_secret": "{metadata}",
                "vault.delete_secret": "{deleted, versions}",
                "vault.list_secrets": "{keys}",
            },
        }

    async def _get(self, payload: GetSecret) -> dict[str, Any]:
        params = {"version": payload.version} if payload.version else {}
        answer = await self._call("GET", "data", payload.path, params=params, accept=(404,))
        secret = (answer.body or {}).get("data") or {}
        metadata, data = secret.get("metadata"), secret.get("data")
        if answer.status == 404 or data is None:
            return {"found": False, "metadata": metadata}
        if payload.key is None:
            return {"found": True, "data": data, "metadata": metadata}
        if payload.key not in data:
            return {"found": False, "metadata": metadata}
        return {"found": True, "value": data[payload.key], "metadata": metadata}

    async def _set(self, payload: SetSecret) -> dict[str, Any]:
        body: dict[str, Any] = {"data": payload.data}
        if payload.cas is not None:
            body["options"] = {"cas": payload.cas}
        answer = await self._call("POST", "data", payload.path, body=body)
        return {"metadata": answer.body["data"]}

    async def _delete(self, payload: DeleteSecret) -> dict[str, Any]:
        if payload.versions is None:
            await self._call("DELETE", "data", payload.path)
            return {"deleted": True, "versions": "latest"}
        await self._call("POST", "delete", payload.path, body={"versions": payload.versions})
        return {"deleted": True, "versions": payload.versions}

    async def _list(self, payload: ListSecrets) -> dict[str, Any]:
        answer = await self._call(
            "GET", "metadata", payload.path, params={"list": "true"}, accept=(404,)
        )
        keys = ((answer.body or {}).get("data") or {}).get("keys") or []
        return {"keys": keys if answer.status != 404 else []}

    async def _call(self, method: str, kind: str, path: str, **kwargs: Any) -> Any:
        """One KV v2 request to ``<mount>/<kind>/<path>``, with a fresh token."""
        await self._fresh_token()
        quoted = quote(clean_path(path), safe="/")
        url = f"/v1/{self._ready().mount}/{kind}/{quoted}"
        return await self._open_api().call(method, url, headers=self._auth(), **kwargs)

    async def _fresh_token(self) -> None:
        """Renew the token once half its lease has passed; AppRole logs in again when the
        renewal is refused or does not extend it."""
        async with self._lock:
            loop = asyncio.get_running_loop()
            if self._lease <= 0 or loop.time() < self._expires_at - self._lease / 2:
                return
            settings = self._ready()
            if self._renewable:
                with contextlib.suppress(errors.RuntimeHostError):
                    answer = await self._open_api().call(
                        "POST", "/v1/auth/token/renew-self", headers=self._auth()
                    )
                    lease = float(answer.body["auth"]["lease_duration"])
                    if lease > self._lease / 2 or settings.approle is None:
                        self._granted(lease, bool(answer.body["auth"]["renewable"]))
                        return
            if settings.approle is not None:
                await self._login(settings.approle)
                return
            self._renewable = False
            logger.warning("vault token cannot be renewed; it expires in %.0f s", self._left())

    async def _login(self, approle: AppRoleLogin) -> None:
        body = {
            "role_id": approle.role_id.get_secret_value(),
            "secret_id": approle.secret_id.get_secret_value(),
        }
        answer = await self._open_api().call("POST", f"/v1/auth/{approle.mount}/login", body=body)
        auth = answer.body["auth"]
        self._token = auth["client_token"]
        self._granted(float(auth.get("lease_duration") or 0), bool(auth.get("renewable")))

    def _granted(self, lease: float, renewable: bool) -> None:
        self._lease, self._renewable = lease, renewable
        self._expires_at = asyncio.get_running_loop().time() + lease

    def _left(self) -> float:
        return self._expires_at - asyncio.get_running_loop().time()

    def _auth(self) -> dict[str, str]:
        return {"X-Vault-Token": self._token}

    def _ready(self) -> VaultSettings:
        if self._settings is None:
            raise errors.HandlerExecutionError("the vault handler is not initialized")
        return self._settings

    def _open_api(self) -> JsonApi:
        if self._api is None or not self._api.is_open:
            raise errors.HandlerExecutionError("the vault handler is not initialized")
        return self._api

    @contextlib.contextmanager
    def _mapped(self, envelope: ModelOnexEnvelope | None) -> Iterator[None]:
        """Timeouts and malformed answers as ONEX errors, with the envelope's context."""
        try:
            yield
        except (errors.RuntimeHostError, TimeoutError, KeyError, TypeError, AttributeError) as exc:
            error = exc if isinstance(exc, errors.RuntimeHostError) else self._translated(exc)
            raise common.failure(error, envelope, self.handler_type, logger) from None

    def _translated(self, exc: Exception) -> errors.RuntimeHostError:
        if isinstance(exc, TimeoutError):
            ms = self._settings.timeout_ms if self._settings else 0
            return errors.HandlerTimeoutError(f"vault did not answer within {ms} ms")
        return errors.HandlerExecutionError(
            f"vault answered in an unexpected shape ({type(exc).__name__})"
        )


def _unresolved(
    ref: SecretRef, reason: str, details: Mapping[str, Any]
) -> errors.SecretResolutionError:
    return errors.SecretResolutionError(
        f"{ref}: {reason}", details={**details, "reference": str(ref)}
    )
