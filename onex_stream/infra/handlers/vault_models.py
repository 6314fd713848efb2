"""The vault handler's config and payload models (KV v2 paths, token or AppRole login)."""

from __future__ import annotations

from typing import Any

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from onex_stream.core.contracts.handler_binding import HandlerSettings
from onex_stream.infra.secret_cache import DEFAULT_SECRET_TTL_SECONDS

_SEGMENT = r"[A-Za-z0-9_.-]+"


def clean_path(path: str) -> str:
    """``path`` without surrounding slashes; empty, ``.`` and ``..`` segments refused."""
    path = path.strip("/")
    if path and any(part in ("", ".", "..") for part in path.split("/")):
        raise ValueError("empty, '.' and '..' segments are not allowed")
    return path


class AppRoleLogin(BaseModel):
    """``approle``: the resolved ``role_id_ref``/``secret_id_ref`` and the auth mount."""

    model_config = ConfigDict(extra="forbid")

    role_id: SecretStr
    secret_id: SecretStr
    mount: str = Field(default="approle", pattern=f"^{_SEGMENT}$")


class VaultSettings(HandlerSettings):
    """The vault handler's config: ``address``, ``token`` or ``approle``, ``mount``,
    ``namespace`` (the host resolves ``token_ref`` and the approle refs before), and
    ``secret_ttl_seconds``: how long a secret read for ``vault:`` references is used before
    it is read again (0: at every use)."""

    address: AnyHttpUrl
    token: SecretStr | None = None
    approle: AppRoleLogin | None = None
    mount: str = Field(default="secret", pattern=f"^{_SEGMENT}(/{_SEGMENT})*$")
    namespace: str | None = Field(default=None, pattern=f"^{_SEGMENT}(/{_SEGMENT})*$")
    secret_ttl_seconds: float = Field(default=DEFAULT_SECRET_TTL_SECONDS, ge=0)

    @model_validator(mode="after")
    def _one_login(self) -> VaultSettings:
        if (self.token is None) == (self.approle is None):
            raise ValueError("give exactly one of token_ref or approle")
        return self


class _Path(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: str = Field(min_length=1)
    clean_path = field_validator("path")(clean_path)


class GetSecret(_Path):
    """vault.get_secret: ``path``; ``key`` (one value) and ``version`` optional."""

    key: str | None = None
    version: int | None = Field(default=None, ge=1)


class SetSecret(_Path):
    """vault.set_secret: ``path``, ``data``; ``cas`` (check-and-set version) optional."""

    data: dict[str, Any]
    cas: int | None = Field(default=None, ge=0)


class DeleteSecret(_Path):
    """vault.delete_secret: ``path``; ``versions`` (soft-deleted) optional, else the latest."""

    versions: list[int] | None = Field(default=None, min_length=1)


class ListSecrets(_Path):
    """vault.list_secrets: ``path`` (a folder; "" or "/" lists the mount's root)."""

    path: str = ""
