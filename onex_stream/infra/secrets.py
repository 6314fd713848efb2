"""SecretResolver: the one place secret references become values (env mapping, files, vault)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from onex_stream.core.errors import SecretResolutionError
from onex_stream.core.secret_refs import SecretRef, is_secret_ref, parse_secret_ref


class SecretResolver:
    """Resolves ``env:NAME`` from the injected mapping (never ``os.environ``) and
    ``file:/path`` from disk; ``vault:`` needs the vault handler (``resolve_vault_refs``).
    Errors name the reference, never a value."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env

    def resolve(self, ref: str | SecretRef) -> str:
        """The secret behind ``ref``, or ``SecretResolutionError`` naming the reference."""
        if isinstance(ref, str):
            try:
                ref = parse_secret_ref(ref)
            except ValueError as exc:  # the text is not named: it may be a literal secret
                raise SecretResolutionError(str(exc)) from None
        if ref.scheme == "env":
            if ref.name not in self._env:
                raise _error(ref, f"environment variable {ref.name} (from {ref}) is not set")
            return self._env[ref.name]
        if ref.scheme == "file":
            return _read(ref)
        raise _error(
            ref, f"{ref}: vault references need the vault handler, which is not available yet"
        )

    def resolve_config(self, config: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
        """``config`` with every ``<name>_ref`` holding a reference replaced by ``<name>``
        holding its value (``password_ref: env:PGPASS`` -> ``password: ...``), in nested
        mappings too (``approle.secret_id_ref``). ``vault:`` references are left as they
        are: the host resolves them at start, through the vault handler
        (``resolve_vault_refs``)."""
        resolved = dict(config)
        for key, value in config.items():
            if isinstance(value, Mapping):
                resolved[key] = self.resolve_config(value, f"{prefix}{key}.")
                continue
            name = _referenced_name(config, key, value, prefix)
            if name is None or _is_vault(value):
                continue
            try:
                resolved[name] = self.resolve(value)
            except SecretResolutionError as error:
                raise _located(error, f"{prefix}{key}") from None
            del resolved[key]
        return resolved


def has_vault_refs(config: Mapping[str, Any]) -> bool:
    """Whether ``config`` (nested mappings included) still holds a ``vault:`` reference."""
    return any(
        has_vault_refs(value) if isinstance(value, Mapping) else _is_vault(value)
        for key, value in config.items()
        if isinstance(value, Mapping) or key.endswith("_ref")
    )


async def resolve_vault_refs(
    config: Mapping[str, Any], read: Callable[[SecretRef], Awaitable[str]], prefix: str = ""
) -> dict[str, Any]:
    """``config`` with every ``<name>_ref: vault:path#key`` replaced by ``<name>`` holding
    the value ``read`` returns (nested mappings too); errors name the key and reference."""
    resolved = dict(config)
    for key, value in config.items():
        if isinstance(value, Mapping):
            resolved[key] = await resolve_vault_refs(value, read, f"{prefix}{key}.")
            continue
        name = _referenced_name(config, key, value, prefix)
        if name is None or not _is_vault(value):
            continue
        ref = value if isinstance(value, SecretRef) else parse_secret_ref(value)
        try:
            resolved[name] = await read(ref)
        except SecretResolutionError as error:
            raise _located(error, f"{prefix}{key}") from None
        del resolved[key]
    return resolved


def _referenced_name(config: Mapping[str, Any], key: str, value: Any, prefix: str) -> str | None:
    """``<name>`` when ``key`` is ``<name>_ref`` holding a reference; refuses both given."""
    name = key.removesuffix("_ref")
    if name == key or not name or not isinstance(value, str | SecretRef):
        return None
    if name in config:
        raise SecretResolutionError(
            f"give either {prefix}{name} or {prefix}{key}, not both",
            details={"key": f"{prefix}{key}"},
        )
    return name


def _is_vault(value: Any) -> bool:
    if isinstance(value, SecretRef):
        return value.scheme == "vault"
    return isinstance(value, str) and value.startswith("vault:") and is_secret_ref(value)


def _located(error: SecretResolutionError, key: str) -> SecretResolutionError:
    located = SecretResolutionError(
        f"{key}: {error.message}", details={**error.details, "key": key}
    )
    located.handler_type = error.handler_type
    return located


def _read(ref: SecretRef) -> str:
    """The file's text without one trailing newline (as Kubernetes secret volumes hold it)."""
    try:
        return Path(ref.path).read_text(encoding="utf-8").removesuffix("\n")
    except UnicodeDecodeError:
        raise _error(ref, f"{ref.path} (from {ref}) is not UTF-8 text") from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise _error(ref, f"cannot read {ref.path} (from {ref}): {reason}") from None


def _error(ref: SecretRef, message: str) -> SecretResolutionError:
    return SecretResolutionError(message, details={"reference": str(ref)})
