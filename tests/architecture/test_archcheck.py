"""The architecture check passes on the tree and reports planted violations by file:line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

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
