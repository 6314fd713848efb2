"""Secrets read from a store (Vault) kept for a TTL, and the rotating secrets handlers hold."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import CoreSchema, core_schema

from onex_stream.core.errors import RuntimeHostError
from onex_stream.core.secret_refs import SecretRef

logger = logging.getLogger(__name__)

#: How long a secret read from Vault is used before it is read again (Vault Agent's default
#: re-render interval for static secrets is the same five minutes).
DEFAULT_SECRET_TTL_SECONDS = 300.0
#: After a failed re-read, the stale value is kept and the read retried after this (or the TTL).
RETRY_SECONDS = 30.0

ReadSecret = Callable[[str], Awaitable[Mapping[str, Any]]]
ReadReference = Callable[[SecretRef, bool], Awaitable[str]]


@dataclass
class _Entry:
    data: Mapping[str, Any]
    read_at: float
    expires_at: float
    generation: int


class SecretCache:
    """Secrets by path, each kept ``ttl`` seconds of ``clock`` time after it was read.

    Concurrent users of one path wait for a single read. Once the TTL has passed, a failed
    re-read keeps the stale value (logged, never shown) and is retried after
    ``RETRY_SECONDS`` (or the TTL if shorter): a Vault outage does not break consumers that
    hold a working credential. ``fresh`` reads bypass the TTL and fail when the read fails.
    """

    def __init__(
        self, read: ReadSecret, ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.reads = 0  # reads made through ``read`` (diagnostics and tests)
        self._read = read
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    async def get(self, path: str, *, fresh: bool = False) -> Mapping[str, Any]:
        """The secret at ``path``: the cached one within its TTL; read again after it, or
        now when ``fresh`` (unless another caller read it while this one waited)."""
        known = self._entries.get(path)
        asked = known.generation if known else -1
        async with self._locks.setdefault(path, asyncio.Lock()):
            entry = self._entries.get(path)
            if entry is not None and (
                entry.generation != asked if fresh else self._clock() < entry.expires_at
            ):
                return entry.data
            try:
                self.reads += 1
                data = await self._read(path)
            except RuntimeHostError as error:
                if entry is None or fresh:
                    raise
                return self._stale(path, entry, error)
            now = self._clock()
            generation = entry.generation + 1 if entry else 0
            self._entries[path] = _Entry(data, now, now + self.ttl, generation)
            return data

    def clear(self) -> None:
        """Forget every cached secret."""
        self._entries.clear()

    def _stale(self, path: str, entry: _Entry, error: RuntimeHostError) -> Mapping[str, Any]:
        now = self._clock()
        entry.expires_at = now + min(self.ttl, RETRY_SECONDS)
        logger.warning(
            "the secret at %s could not be read again (%s %s); the value read %.0f s ago "
            "is used until a read succeeds",
            path,
            error.code.value,
            error.message,
            now - entry.read_at,
        )
        return entry.data


class RotatingSecret:
    """A secret a handler reads when it uses it (``await secret()``): the store's cached
    value, read again once the TTL has passed; ``refresh()`` reads it now (after the
    credential was refused). Its repr names the reference, never the value."""

    def __init__(self, ref: SecretRef, read: ReadReference) -> None:
        self.ref = ref
        self._read = read

    async def __call__(self) -> str:
        """The current value (cached within the TTL)."""
        return await self._read(self.ref, False)

    async def refresh(self) -> str:
        """The value read again now, bypassing the TTL."""
        return await self._read(self.ref, True)

    def __repr__(self) -> str:
        """``RotatingSecret(vault:path#key)``."""
        return f"RotatingSecret({self.ref})"

    @classmethod
    def __get_pydantic_core_schema__(
        cls, source: type[Any], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        """Settings models accept an instance as it is (never copied nor serialized)."""
        return core_schema.is_instance_schema(cls)
