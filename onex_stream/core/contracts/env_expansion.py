"""Expansion of ``${VAR}`` and ``${VAR:-default}`` in contract string values."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from onex_stream.core.contracts.yaml_source import Path_, YamlDocument

_REFERENCE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")


def expand_environment(document: YamlDocument, env: Mapping[str, str]) -> Any:
    """A copy of the document's data with every reference replaced from ``env``.

    A variable that is unset and has no default fails, naming the variable and
    the line of the key that uses it.
    """
    return _expand(document.data, (), document, env)


def _expand(value: Any, path: Path_, document: YamlDocument, env: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        return _expand_string(value, path, document, env)
    if isinstance(value, dict):
        return {k: _expand(v, (*path, k), document, env) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand(v, (*path, i), document, env) for i, v in enumerate(value)]
    return value


def _expand_string(text: str, path: Path_, document: YamlDocument, env: Mapping[str, str]) -> str:
    def substitute(match: re.Match[str]) -> str:
        name, default = match.group("name"), match.group("default")
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise document.error(
            path,
            f"Environment variable '{name}' is not set",
            f"'{'.'.join(map(str, path))}' references ${{{name}}} without a default",
            f"Export {name}, or write ${{{name}:-default}} in the contract",
        )

    return _REFERENCE.sub(substitute, text) if "${" in text else text
