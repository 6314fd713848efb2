"""The architecture check passes on the tree and reports planted violations by file:line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import archcheck
import pytest

REPO = Path(__file__).resolve().parents[2]
CHECK = REPO / "tests" / "architecture" / "archcheck.py"


def run_check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CHECK), str(root)], capture_output=True, text=True, check=False
    )


@pytest.fixture
def tree_copy(tmp_path: Path) -> Path:
    shutil.copytree(
        REPO / "onex_stream", tmp_path / "onex_stream", ignore=shutil.ignore_patterns("__pycache__")
    )
    shutil.copy(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def plant(root: Path, relative: str, source: str) -> None:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f'"""Planted."""\n\n{source}\n')


def test_the_project_tree_has_no_violations() -> None:
    result = run_check(REPO)
    assert result.returncode == 0, result.stdout
    assert "0 violation(s)" in result.stderr


@pytest.mark.parametrize(
    ("relative", "source", "expected"),
    [
        ("onex_stream/core/bad.py", "import asyncpg", "core imports asyncpg"),
        ("onex_stream/core/bad.py", "from httpx import AsyncClient", "core imports httpx"),
        ("onex_stream/core/bad.py", "import faust.types", "core imports faust.types"),
        (
            "onex_stream/core/runtime/bad.py",
            "from onex_stream.infra import x",
            "never import infra",
        ),
        (
            "onex_stream/core/bad.py",
            "from onex_stream.spi import ProtocolHandler",
            "never imports spi",
        ),
        ("onex_stream/core/bad.py", "import numpy", "core imports only the standard library"),
        ("onex_stream/spi/bad.py", "import pydantic", "spi imports only core"),
        ("onex_stream/spi/bad.py", "from ..infra import wiring", "never import infra"),
    ],
)
def test_forbidden_layer_imports_are_reported_with_file_and_line(
    tree_copy: Path, relative: str, source: str, expected: str
) -> None:
    plant(tree_copy, relative, source)
    result = run_check(tree_copy)
    assert result.returncode == 1
    assert f"{relative}:3: " in result.stdout
    assert expected in result.stdout


def test_local_handler_in_infra_is_reported(tree_copy: Path) -> None:
    plant(
        tree_copy,
        "onex_stream/infra/runtime/bad.py",
        "from onex_stream.core.handlers.local import LocalHandler",
    )
    result = run_check(tree_copy)
    assert result.returncode == 1
    assert "onex_stream/infra/runtime/bad.py:3: infra imports LocalHandler" in result.stdout


def test_local_handler_in_a_production_entry_point_is_reported(tree_copy: Path) -> None:
    plant(
        tree_copy,
        "onex_stream/cli/validate_contract.py",
        "from onex_stream.core.handlers import local",
    )
    result = run_check(tree_copy)
    assert result.returncode == 1
    assert (
        "onex_stream/cli/validate_contract.py:3: a production entry point imports" in result.stdout
    )


def test_local_handler_in_the_faust_worker_bootstrap_is_reported(tree_copy: Path) -> None:
    path = tree_copy / "onex_stream" / "bootstrap.py"
    path.write_text(
        path.read_text() + "\nfrom onex_stream.core.handlers.local import LocalHandler\n"
    )
    result = run_check(tree_copy)
    assert result.returncode == 1
    assert "onex_stream/bootstrap.py:" in result.stdout
    assert "a production entry point imports LocalHandler" in result.stdout


@pytest.mark.parametrize(
    ("source", "line", "expected"),
    [
        ("import os\nvalue = os.environ['PGPASS']", 4, "(os.environ)"),
        ("import os\nvalue = os.getenv('PGPASS')", 4, "(os.getenv)"),
        ("import os as system\nvalue = system.getenvb(b'PGPASS')", 4, "(os.getenvb)"),
        ("from os import environ", 3, "(from os import environ)"),
        ("from os import getenv as read", 3, "(from os import getenv)"),
    ],
)
def test_a_handler_reading_the_process_environment_is_reported(
    tree_copy: Path, source: str, line: int, expected: str
) -> None:
    plant(tree_copy, "onex_stream/infra/handlers/bad.py", source)
    result = run_check(tree_copy)
    assert result.returncode == 1
    where = f"onex_stream/infra/handlers/bad.py:{line}: a handler reads the process environment"
    assert where in result.stdout
    assert expected in result.stdout


def test_other_uses_of_os_in_a_handler_and_environment_reads_elsewhere_pass(
    tree_copy: Path,
) -> None:
    plant(tree_copy, "onex_stream/infra/handlers/fine.py", "import os\nbase = os.path.join('a')")
    plant(tree_copy, "onex_stream/infra/runtime/fine.py", "import os\nvalue = os.environ.get('X')")
    result = run_check(tree_copy)
    assert result.returncode == 0, result.stdout


def planted_tree(root: Path, files: dict[str, str]) -> Path:
    """A tree holding only ``files`` (relative path -> source), for one rule's function."""
    for relative, source in files.items():
        plant(root, relative, source)
    return root


@pytest.mark.parametrize(
    ("source", "line", "name"),
    [
        ("from typing import Protocol\nclass Shape(Protocol):\n    x: int", 4, "Shape"),
        ("import typing\nclass Shape(typing.Protocol):\n    x: int", 4, "Shape"),
        ("import typing_extensions as te\nclass Shape(te.Protocol):\n    x: int", 4, "Shape"),
        (
            "from typing import Protocol as P, TypeVar\nT = TypeVar('T')\n"
            "class Shape(P[T]):\n    x: T",
            5,
            "Shape",
        ),
        ("from typing import Protocol\nclass Shape(int, Protocol):\n    x: int", 4, "Shape"),
    ],
)
def test_a_protocol_declared_in_infra_is_reported(
    tmp_path: Path, source: str, line: int, name: str
) -> None:
    root = planted_tree(tmp_path, {"onex_stream/infra/event_bus/bad.py": source})
    assert list(archcheck.protocol_violations(root)) == [
        f"onex_stream/infra/event_bus/bad.py:{line}: infra declares a protocol "
        f"(class {name} subclasses typing.Protocol); declare it in onex_stream/spi, "
        "infra only implements protocols"
    ]


@pytest.mark.parametrize(
    ("relative", "source"),
    [
        (  # implementing an SPI protocol is what infra does
            "onex_stream/infra/event_bus/fine.py",
            "from onex_stream.spi.transport_kind import ProtocolTransportKind\n"
            "class Kind(ProtocolTransportKind[int, int]):\n    name = 'kind'",
        ),
        (
            "onex_stream/spi/fine.py",
            "from typing import Protocol\nclass Shape(Protocol):\n    x: int",
        ),
        ("onex_stream/infra/event_bus/fine.py", "from abc import ABC\nclass Base(ABC):\n    pass"),
    ],
)
def test_spi_protocols_and_their_implementations_in_infra_pass(
    tmp_path: Path, relative: str, source: str
) -> None:
    root = planted_tree(tmp_path, {relative: source})
    assert list(archcheck.protocol_violations(root)) == []


@pytest.mark.parametrize(
    ("relative", "source", "line", "what"),
    [
        (
            "onex_stream/infra/runtime/bad.py",
            "def wire(runtime, handler):\n    runtime.register_handler(handler)",
            4,
            "register_handler call",
        ),
        (
            "onex_stream/cli/bad.py",
            "from onex_stream.core.runtime import NodeRuntime\n"
            "NodeRuntime('x').register_handler(object())",
            4,
            "register_handler call",
        ),
        (
            "onex_stream/bad.py",
            "from onex_stream.infra.runtime.wiring import HANDLER_REGISTRY\n"
            "HANDLER_REGISTRY['extra'] = object",
            4,
            "HANDLER_REGISTRY written",
        ),
        (
            "onex_stream/infra/handlers/bad.py",
            "from onex_stream.infra.runtime import wiring\nwiring.HANDLER_REGISTRY.update({})",
            4,
            "HANDLER_REGISTRY.update",
        ),
        (
            "onex_stream/infra/runtime/bad.py",
            "from onex_stream.infra.runtime import wiring\nwiring.HANDLER_REGISTRY = {}",
            4,
            "HANDLER_REGISTRY written",
        ),
        (
            "onex_stream/infra/runtime/bad.py",
            "from onex_stream.infra.runtime.wiring import HANDLER_REGISTRY\n"
            "del HANDLER_REGISTRY['http']",
            4,
            "HANDLER_REGISTRY written",
        ),
    ],
)
def test_handler_registration_outside_wiring_is_reported(
    tmp_path: Path, relative: str, source: str, line: int, what: str
) -> None:
    root = planted_tree(tmp_path, {relative: source})
    assert list(archcheck.registration_violations(root)) == [
        f"{relative}:{line}: handler registration ({what}) outside "
        "onex_stream/infra/runtime/wiring.py, the one place handlers are registered"
    ]


def test_registration_in_wiring_and_reading_the_registry_elsewhere_pass(tmp_path: Path) -> None:
    root = planted_tree(
        tmp_path,
        {
            "onex_stream/infra/runtime/wiring.py": "HANDLER_REGISTRY = {}\n"
            "def register(runtime, handler):\n    runtime.register_handler(handler)",
            "onex_stream/cli/fine.py": "from onex_stream.infra.runtime.wiring import "
            "HANDLER_REGISTRY\ntypes = sorted(HANDLER_REGISTRY)\n"
            "found = HANDLER_REGISTRY.get('http')",
            "onex_stream/core/runtime/fine.py": "class Runtime:\n"
            "    def register_handler(self, handler):\n        self.handlers = [handler]",
        },
    )
    assert list(archcheck.registration_violations(root)) == []


def test_the_check_reports_a_protocol_in_infra_and_registration_outside_wiring(
    tree_copy: Path,
) -> None:
    plant(
        tree_copy,
        "onex_stream/infra/event_bus/bad.py",
        "import typing\nclass P(typing.Protocol): ...",
    )
    plant(
        tree_copy,
        "onex_stream/cli/bad.py",
        "def wire(runtime, h):\n    runtime.register_handler(h)",
    )
    result = run_check(tree_copy)
    assert result.returncode == 1
    assert "onex_stream/infra/event_bus/bad.py:4: infra declares a protocol" in result.stdout
    assert "onex_stream/cli/bad.py:4: handler registration (register_handler call)" in result.stdout
    assert "2 violation(s)" in result.stderr
