"""SecretResolver: the one place secret references become values (env mapping, files)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from onex_stream.core.errors import SecretResolutionError
from onex_stream.core.secret_refs import SecretRef, parse_secret_ref


class SecretResolver:
    """Resolves ``env:NAME`` from the injected mapping (never ``os.environ``) and
    ``file:/path`` from disk; refuses ``vault:``. Errors name the reference, never a value."""

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

    def resolve_config(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """``config`` with every top-level ``<name>_ref`` holding a reference replaced by
        ``<name>`` holding its value (``password_ref: env:PGPASS`` -> ``password: ...``)."""
        resolved = dict(config)
        for key, value in config.items():
            name = key.removesuffix("_ref")
            if name == key or not name or not isinstance(value, str | SecretRef):
                continue
            if name in config:
                raise SecretResolutionError(
                    f"give either {name} or {key}, not both", details={"key": key}
                )
            try:
                resolved[name] = self.resolve(value)
            except SecretResolutionError as error:
                details = {**error.details, "key": key}
                raise SecretResolutionError(f"{key}: {error.message}", details=details) from None
            del resolved[key]
        return resolved


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
