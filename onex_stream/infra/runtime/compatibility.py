"""The compatibility matrix: the dependency versions a runtime host starts with, or refuses.

``MATRIX`` is the one decision: ``docs/VERSION_COMPATIBILITY.md`` renders it as a table
and ``pyproject.toml`` declares the same ranges (tests fail if either disagrees).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from importlib import metadata
from types import MappingProxyType

from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from onex_stream.core.errors import HostStartError, RuntimeHostError

DOC = "docs/VERSION_COMPATIBILITY.md"

#: distribution name -> the versions supported (a ``packaging`` specifier set)
MATRIX: Mapping[str, str] = MappingProxyType(
    {
        "onex_stream": ">=0.1,<0.2",
        "faust-streaming": ">=0.15.3,<0.16",
        "aiokafka": ">=0.10,<0.15",
        "pydantic": ">=2.7,<3",
        "httpx": ">=0.27,<0.29",
        "aiohttp": ">=3.10,<4",
        "asyncpg": ">=0.29,<1",
    }
)

VersionLookup = Callable[[str], str]
"""A distribution's installed version; raises ``PackageNotFoundError`` if it is missing."""
Versions = Mapping[str, str | None]
"""The resolved version of each distribution of the matrix (``None``: not installed)."""


def resolved_versions(lookup: VersionLookup = metadata.version) -> Versions:
    """The version ``lookup`` finds for every distribution of the matrix."""
    found: dict[str, str | None] = {}
    for name in MATRIX:
        try:
            found[name] = lookup(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return MappingProxyType(found)


@functools.cache
def installed_versions() -> Versions:
    """The versions installed in this process's environment (read once per process)."""
    return resolved_versions()


def describe(versions: Versions) -> str:
    """``name version`` pairs for the log line (``name missing`` if not installed)."""
    return ", ".join(f"{name} {version or 'missing'}" for name, version in versions.items())


def check_versions(versions: Versions) -> None:
    """Raise :class:`HostStartError` (one line) for the first distribution outside the matrix."""
    for name, supported in MATRIX.items():
        problem = _problem(versions.get(name), SpecifierSet(supported))
        if problem:
            message = (
                f"{name} {problem}; the compatibility matrix supports {name}{supported} ({DOC}); "
                f"install a supported version: pip install '{name}{supported}'"
            )
            details = {"distribution": name, "found": versions.get(name), "supported": supported}
            raise HostStartError(message, RuntimeHostError(message, details=details))


def _problem(found: str | None, supported: SpecifierSet) -> str | None:
    if found is None:
        return "is not installed"
    try:
        version = Version(found)
    except InvalidVersion:
        return f"{found} is not a valid version"
    if not supported.contains(version, prereleases=True):
        return f"{found} is outside the supported range"
    return None
