"""The compatibility matrix: one decision (doc and pyproject agree), checked at every start."""

from __future__ import annotations

import logging
import re
import tomllib
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

from onex_stream.bootstrap import build_host
from onex_stream.core.errors import HostStartError, cannot_start
from onex_stream.infra.event_bus.memory import get_broker
from onex_stream.infra.runtime import host_slot
from onex_stream.infra.runtime.compatibility import (
    DOC,
    MATRIX,
    VersionLookup,
    check_versions,
    installed_versions,
    resolved_versions,
)
from tests.support.contracts import ECHO_NODE, write_contract
from tests.support.deterministic import DeterministicClock, DeterministicIds
from tests.support.hosts import running_host

REPO = Path(__file__).resolve().parents[3]
ROW = re.compile(r"^\| `(?P<name>[^`]+)` \| `(?P<range>[^`]+)` \|", re.MULTILINE)
RUNTIME = """\
schema_version: "2.0.0"
runtime:
  name: "versions_host"
  event_bus:
    kind: "inmemory"
    config:
      topics: {input: "onex.test.versions.cmd.v1"}
      partitions: 1
  handlers:
    - type: "local"
  nodes:
    - slug: "echo_node"
"""
SUPPORTED = {name: "1.0" for name in MATRIX} | {
    "onex_stream": "0.1.0",
    "faust-streaming": "0.15.3",
    "aiokafka": "0.14.0",
    "pydantic": "2.7.0",
    "httpx": "0.28.1",
    "aiohttp": "3.10.0",
    "asyncpg": "0.29.0",
}


def lookup_from(versions: Mapping[str, str | None]) -> VersionLookup:
    """A version lookup over ``versions`` (None: not installed), like importlib.metadata's."""

    def lookup(name: str) -> str:
        version = versions[name]
        if version is None:
            raise metadata.PackageNotFoundError(name)
        return version

    return lookup


def test_the_documented_table_is_the_matrix() -> None:
    table = {m["name"]: m["range"] for m in ROW.finditer((REPO / DOC).read_text())}
    assert table == dict(MATRIX)


def test_pyproject_declares_exactly_the_matrix_ranges() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = {
        canonicalize_name(r.name): r.specifier for r in map(Requirement, project["dependencies"])
    }
    for name, supported in MATRIX.items():
        if canonicalize_name(name) == canonicalize_name(project["name"]):
            assert SpecifierSet(supported).contains(project["version"]), name
        else:
            assert declared.get(canonicalize_name(name)) == SpecifierSet(supported), name


def test_the_installed_environment_is_supported() -> None:
    versions = installed_versions()
    assert set(versions) == set(MATRIX)
    assert None not in versions.values()
    check_versions(versions)


def test_versions_inside_the_matrix_pass_prereleases_included() -> None:
    check_versions(resolved_versions(lookup_from(SUPPORTED)))
    check_versions(resolved_versions(lookup_from({**SUPPORTED, "pydantic": "2.9.0b1"})))


@pytest.mark.parametrize(
    ("name", "found", "problem"),
    [
        ("faust-streaming", "0.16.0", "faust-streaming 0.16.0 is outside the supported range"),
        ("pydantic", "1.10.13", "pydantic 1.10.13 is outside the supported range"),
        ("httpx", "0.29.0", "httpx 0.29.0 is outside the supported range"),
        ("onex_stream", "0.2.0", "onex_stream 0.2.0 is outside the supported range"),
        ("asyncpg", None, "asyncpg is not installed"),
        ("aiokafka", "not-a-version", "aiokafka not-a-version is not a valid version"),
    ],
)
def test_a_version_outside_the_matrix_is_refused_with_one_line(
    name: str, found: str | None, problem: str
) -> None:
    versions = resolved_versions(lookup_from({**SUPPORTED, name: found}))
    with pytest.raises(HostStartError) as raised:
        check_versions(versions)
    line = cannot_start(raised.value)
    supported = MATRIX[name]
    assert line == (
        f"cannot start: {problem}; the compatibility matrix supports {name}{supported} "
        f"({DOC}); install a supported version: pip install '{name}{supported}'"
    )
    assert raised.value.details == {"distribution": name, "found": found, "supported": supported}


async def test_a_host_start_logs_the_versions_once_as_one_structured_line(
    tmp_path: Path,
    ids: DeterministicIds,
    clock: DeterministicClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    contract = write_contract(tmp_path, RUNTIME, {"echo_node": ECHO_NODE})
    caplog.set_level(logging.INFO, logger="onex_stream.infra.runtime.host")
    async with running_host(contract, ids=ids, clock=clock):
        pass
    (record,) = [r for r in caplog.records if r.getMessage().startswith("Versions: ")]
    assert record.levelno == logging.INFO
    assert record.versions == dict(installed_versions())  # type: ignore[attr-defined]
    assert "faust-streaming 0.15" in record.getMessage()


async def test_a_host_with_an_unsupported_version_stops_before_topics_and_handlers(
    tmp_path: Path,
) -> None:
    contract = write_contract(tmp_path, RUNTIME, {"echo_node": ECHO_NODE})
    url = "memory://versions-refused"
    overrides = {"broker_url": url, "web_enabled": False}
    host = build_host(contract, env={"ONEX_ENV": "test"}, bus_overrides=overrides, logs="as-is")
    host.versions = lambda: resolved_versions(lookup_from({**SUPPORTED, "httpx": "0.30.0"}))
    try:
        with pytest.raises(HostStartError, match=r"^httpx 0\.30\.0 is outside the supported"):
            await host.bus.start_consuming()
        assert get_broker(url).topics() == {}  # no topic prepared
        assert host_slot.holder() is None  # the handlers' start never ran
        (handler,) = host.runtime.handlers.values()
        assert (await handler.health_check())["healthy"] is False  # never initialized
    finally:
        await host.bus.shutdown()
