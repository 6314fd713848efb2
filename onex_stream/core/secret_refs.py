"""Secret references (``env:NAME``, ``file:/path``, ``vault:<path>#<key>``): the one parser."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

#: How a reference is written (for error messages and lint hints).
REFERENCE_FORMS = "'env:<NAME>', 'file:/<absolute path>' or 'vault:<path>#<key>'"
_REFERENCE = re.compile(
    r"env:(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|file:(?P<file>/[^/\s]\S*)"
    r"|vault:(?P<vault>[^#\s]+)#(?P<key>\S+)"
)

Scheme = Literal["env", "file", "vault"]


@dataclass(frozen=True)
class SecretRef:
    """Where a secret is, never the secret itself; fields not used by a scheme are ""."""

    scheme: Scheme
    name: str = ""  # env: the variable name
    path: str = ""  # file: the absolute path; vault: the secret's path
    key: str = ""  # vault: the key within the secret

    def __str__(self) -> str:
        """The reference as written: ``env:NAME``, ``file:/path`` or ``vault:path#key``."""
        if self.scheme == "env":
            return f"env:{self.name}"
        if self.scheme == "file":
            return f"file:{self.path}"
        return f"vault:{self.path}#{self.key}"


def parse_secret_ref(text: str) -> SecretRef:
    """The reference written as ``text``; ``ValueError`` (without the text, which may be a
    literal secret) saying what a reference looks like."""
    match = _REFERENCE.fullmatch(text)
    if match is None:
        raise ValueError(f"not a secret reference: write {REFERENCE_FORMS}")
    if match["name"]:
        return SecretRef("env", name=match["name"])
    if match["file"]:
        return SecretRef("file", path=match["file"])
    return SecretRef("vault", path=match["vault"], key=match["key"])


def is_secret_ref(text: str) -> bool:
    """Whether ``text`` is a well-formed secret reference."""
    return _REFERENCE.fullmatch(text) is not None


def check_secret_ref(value: str | None) -> str | None:
    """A pydantic validator for ``*_ref`` fields: ``value`` unchanged if it is a reference
    (or None), else ``ValueError``. Use ``field_validator("x_ref")(check_secret_ref)``."""
    if value is not None:
        parse_secret_ref(value)
    return value
