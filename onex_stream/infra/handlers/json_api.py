"""JsonApi: async JSON calls to one HTTP API (Vault, Consul), failures mapped to ONEX errors."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any, NamedTuple

import httpx

from onex_stream.core import errors
from onex_stream.core.secret_names import mask_url_credentials

_REASON_CHARS = 200


class Answer(NamedTuple):
    """An accepted answer: its status and decoded JSON body (None when empty)."""

    status: int
    body: Any


class JsonApi:
    """One pooled ``httpx.AsyncClient`` to ``address``; never follows redirects nor reads
    proxy settings from the environment. Every failure becomes a ``RuntimeHostError``
    with the HTTP status (``status_code``) in its details and no request data in it."""

    def __init__(
        self,
        name: str,
        address: str,
        *,
        timeout_ms: int,
        connect_timeout_ms: int,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.address = mask_url_credentials(address.rstrip("/"))
        timeout = httpx.Timeout(timeout_ms / 1000, connect=connect_timeout_ms / 1000)
        self._client = httpx.AsyncClient(
            base_url=address.rstrip("/"),
            headers=dict(headers or {}),
            timeout=timeout,
            follow_redirects=False,
            trust_env=False,
        )

    @property
    def is_open(self) -> bool:
        """Whether the client can still send."""
        return not self._client.is_closed

    async def close(self) -> None:
        """Close the client and its connections."""
        await self._client.aclose()

    async def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        accept: Collection[int] = (),
    ) -> Answer:
        """Send one request; a 2xx status or one in ``accept`` is answered, any other raises."""
        try:
            response = await self._client.request(
                method,
                path,
                json=body,
                params=dict(params or {}),
                headers=dict(headers or {}),
            )
        except httpx.TimeoutException as exc:
            raise errors.HandlerTimeoutError(
                f"{self.name} at {self.address} did not answer in time ({type(exc).__name__})",
                details={"reason": type(exc).__name__},
            ) from None
        except (httpx.HTTPError, OSError) as exc:
            raise errors.HandlerExecutionError(
                f"{self.name} at {self.address} is unreachable: {type(exc).__name__}",
                details={"reason": type(exc).__name__},
            ) from None
        decoded = self._decoded(response)
        if response.is_success or response.status_code in accept:
            return Answer(response.status_code, decoded)
        raise self.status_error(response.status_code, decoded)

    def status_error(self, status: int, body: Any) -> errors.RuntimeHostError:
        """The ONEX error for an HTTP status the API answered (400 -> INVALID_OPERATION,
        401/403 -> OPERATION_NOT_ALLOWED, others -> HANDLER_EXECUTION_ERROR)."""
        reason = _reason(body)
        message = f"{self.name} answered {status}" + (f": {reason}" if reason else "")
        details = {"status_code": status}
        if status in (401, 403):
            return errors.OperationNotAllowedError(message, details=details)
        if status == 400:
            return errors.InvalidOperationError(message, details=details)
        return errors.HandlerExecutionError(message, details=details)

    def _decoded(self, response: httpx.Response) -> Any:
        if not response.content:
            return None
        if "json" not in response.headers.get("content-type", "json"):
            return response.text
        try:
            return json.loads(response.content)
        except ValueError:
            raise errors.HandlerExecutionError(
                f"{self.name} answered {response.status_code} with a body that is not JSON",
                details={"status_code": response.status_code},
            ) from None


def _reason(body: Any) -> str:
    """Vault's ``errors`` list, or a plain-text body (Consul), on one short line."""
    if isinstance(body, Mapping) and isinstance(body.get("errors"), list):
        text = "; ".join(str(item) for item in body["errors"])
    elif isinstance(body, str):
        text = body
    else:
        return ""
    text = " ".join(text.split())
    return text if len(text) <= _REASON_CHARS else text[:_REASON_CHARS] + "..."
