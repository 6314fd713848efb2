"""The modules of onex_stream.core.runtime import each other without a cycle."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import onex_stream.core.runtime as package

PACKAGE = package.__name__
MODULES = {p.stem: p for p in Path(package.__file__).parent.glob("*.py") if p.stem != "__init__"}


def sibling_imports(path: Path) -> set[str]:
    """Modules of the package that ``path`` imports (at run time or for typing)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        found |= {n.removeprefix(f"{PACKAGE}.") for n in names if n.startswith(f"{PACKAGE}.")}
    return found & MODULES.keys()


def test_the_runtime_modules_form_no_import_cycle() -> None:
    graph = {name: sibling_imports(path) for name, path in MODULES.items()}
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as cycle:  # pragma: no cover - the failure message
        raise AssertionError(f"import cycle: {cycle.args[1]}") from None
    assert order.index("node_instance") < order.index("route") < order.index("node_runtime")


def test_node_instance_is_plain_data_that_imports_no_runtime_module() -> None:
    assert sibling_imports(MODULES["node_instance"]) == set()
