"""Handler start: the vault handler first, then the others with their vault: references read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.errors import SecretResolutionError
from onex_stream.core.ports import HandlerPort
from onex_stream.core.runtime import NodeRuntime
from onex_stream.infra.handlers.decorator import HandlerDecorator
from onex_stream.infra.handlers.vault import VaultHandler
from onex_stream.infra.secrets import has_vault_refs, resolve_vault_refs

VAULT = EnumHandlerType.VAULT


async def initialize_handlers(
    runtime: NodeRuntime, configs: Mapping[EnumHandlerType, Mapping[str, Any]]
) -> None:
    """Initialize every registered handler once: the vault handler first, then each other
    one with its ``vault:`` references resolved through it (values cached by the handler).

    A reference that cannot be read raises ``SecretResolutionError`` naming it and carrying
    the handler type whose config holds it (so the host's start error points at its line).

    References are resolved once, at start: a value a handler's ``initialize`` consumed
    (a db password, a consul token) is not refreshed or re-applied while the host runs, and
    the vault handler keeps each secret it read for the life of the process. A secret
    rotated in Vault takes effect when the host restarts. (There is no TTL or lease-based
    refresh: KV v2 secrets carry no lease, and an initialized handler has no way to take a
    new credential without being initialized again.)
    """
    handlers = runtime.handlers
    if has_vault_refs(configs.get(VAULT, {})):
        raise SecretResolutionError(
            "the vault handler's own config cannot use vault: references",
            handler_type=VAULT.value,
        )
    if VAULT in handlers:
        await handlers[VAULT].initialize(configs.get(VAULT, {}))
    vault = _vault(handlers.get(VAULT))
    for handler_type, handler in handlers.items():
        if handler_type is VAULT:
            continue
        config = configs.get(handler_type, {})
        if has_vault_refs(config):
            config = await _resolved(handler_type, config, vault)
        await handler.initialize(config)


async def _resolved(
    handler_type: EnumHandlerType, config: Mapping[str, Any], vault: VaultHandler | None
) -> dict[str, Any]:
    try:
        if vault is None:
            raise SecretResolutionError(
                "vault: references need a vault handler in runtime.handlers"
            )
        return await resolve_vault_refs(config, vault.read_reference)
    except SecretResolutionError as error:
        error.handler_type = handler_type.value
        raise


def _vault(handler: HandlerPort | None) -> VaultHandler | None:
    """The ``VaultHandler`` inside the registered (possibly decorated) handler."""
    while isinstance(handler, HandlerDecorator):
        handler = handler.inner
    return handler if isinstance(handler, VaultHandler) else None
