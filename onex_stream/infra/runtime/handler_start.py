"""Handler start: the vault handler first, then the others with their vault: references read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.errors import SecretResolutionError
from onex_stream.core.ports import HandlerPort
from onex_stream.core.runtime import NodeRuntime
from onex_stream.core.secret_refs import parse_secret_ref
from onex_stream.infra.handlers.decorator import HandlerDecorator
from onex_stream.infra.handlers.vault import VaultHandler
from onex_stream.infra.secrets import has_vault_refs, resolve_vault_refs

VAULT = EnumHandlerType.VAULT


async def initialize_handlers(
    runtime: NodeRuntime, configs: Mapping[EnumHandlerType, Mapping[str, Any]]
) -> None:
    """Initialize every registered handler once: the vault handler first, then each other
    one with its ``vault:`` references resolved through it.

    A reference that cannot be read raises ``SecretResolutionError`` naming it and carrying
    the handler type whose config holds it (so the host's start error points at its line).

    Rotation: the vault handler caches each secret ``secret_ttl_seconds`` (default 300),
    then reads it again. A top-level key a handler lists in ``rotating_secrets`` (db
    ``password``, consul ``token``) is checked at start like any other, then handed over as
    a ``RotatingSecret`` the handler reads at each use, so a secret rotated in Vault
    reaches it without a restart (db: new connections, and at once after PostgreSQL
    refuses a password; consul: every request). Any other ``vault:`` value (a db ``dsn``,
    nested keys) is read once, at start, and so are ``env:`` and ``file:`` references
    (resolved when the contract is wired), the vault handler's own token or AppRole
    secret, and the Kafka password: a rotation of those takes effect at restart.
    """
    handlers = runtime.handlers
    if has_vault_refs(configs.get(VAULT, {})):
        raise SecretResolutionError(
            "the vault handler's own config cannot use vault: references",
            handler_type=VAULT.value,
        )
    if VAULT in handlers:
        await handlers[VAULT].initialize(configs.get(VAULT, {}))
    inner = _inner(handlers.get(VAULT))
    vault = inner if isinstance(inner, VaultHandler) else None
    for handler_type, handler in handlers.items():
        if handler_type is VAULT:
            continue
        config = configs.get(handler_type, {})
        if has_vault_refs(config):
            config = await _resolved(handler_type, config, vault, _rotating_keys(handler))
        await handler.initialize(config)


async def _resolved(
    handler_type: EnumHandlerType,
    config: Mapping[str, Any],
    vault: VaultHandler | None,
    rotating: frozenset[str],
) -> dict[str, Any]:
    """``config`` with its ``vault:`` references read (each one checked now); the
    ``rotating`` keys' values as ``RotatingSecret``."""
    try:
        if vault is None:
            raise SecretResolutionError(
                "vault: references need a vault handler in runtime.handlers"
            )
        resolved = await resolve_vault_refs(config, vault.read_reference)
    except SecretResolutionError as error:
        error.handler_type = handler_type.value
        raise
    for key in rotating:
        ref = config.get(f"{key}_ref")
        if isinstance(ref, str) and ref.startswith("vault:"):
            resolved[key] = vault.rotating(parse_secret_ref(ref))
    return resolved


def _rotating_keys(handler: HandlerPort) -> frozenset[str]:
    """The config keys the (possibly decorated) handler takes as ``RotatingSecret``."""
    keys: object = getattr(_inner(handler), "rotating_secrets", frozenset())
    return frozenset(str(key) for key in keys) if isinstance(keys, frozenset) else frozenset()


def _inner(handler: HandlerPort | None) -> HandlerPort | None:
    """The handler inside a registered (possibly decorated) one."""
    while isinstance(handler, HandlerDecorator):
        handler = handler.inner
    return handler
