"""Architecture checks: layers, LocalHandler, handlers' environment, protocols, registration.

Every violation is printed as ``file:line: message``.

Run ``python tests/architecture/archcheck.py [PROJECT_ROOT]``; exit 1 on any violation.

Rules:
- ``onex_stream.core`` imports no I/O or transport library and nothing from spi/infra;
- ``onex_stream.spi`` imports only core (and the standard library);
- nothing under core or spi imports ``onex_stream.infra``;
- ``LocalHandler`` (``onex_stream.core.handlers.local``) is imported nowhere under
  ``onex_stream/infra`` nor by a production entry point's module;
- no module under ``onex_stream/infra/handlers`` reads the process environment
  (``os.environ``, ``os.getenv``, ``os.getenvb``, ``environ`` imported from os): handlers
  get their config, resolved secrets included, from ``initialize``;
- no class under ``onex_stream/infra`` subclasses ``typing.Protocol`` (or
  ``typing_extensions.Protocol``): infra declares no protocols of its own, it implements
  those of ``onex_stream.spi`` (a class may subclass an SPI protocol: that implements it);
- handlers are registered only in ``onex_stream/infra/runtime/wiring.py``: nowhere else
  under ``onex_stream`` is ``register_handler`` called (``NodeRuntime``'s, or any function
  of that name) or ``HANDLER_REGISTRY`` written (item assignment or deletion, rebinding,
  ``update``/``setdefault``/``pop``/``popitem``/``clear``). Tests are not checked.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

IO_LIBRARIES = frozenset(
    [
        "faust",
        "mode",
        "aiokafka",
        "kafka",
        "confluent_kafka",
        "httpx",
        "httpcore",
        "aiohttp",
        "requests",
        "urllib3",
        "asyncpg",
        "psycopg",
        "psycopg2",
        "hvac",
        "consul",
        "redis",
        "valkey",
        "orjson",
        "prometheus_client",
        "socket",
        "ssl",
        "subprocess",
        "http",
        "urllib",
        "asyncio.subprocess",
    ]
)
LOCAL_HANDLER_MODULE = "onex_stream.core.handlers.local"
DEV_ENTRY_POINTS = frozenset({"omninode-runtime-host-dev"})
# Modules behind `faust -A onex_stream worker` (not a console script, still production).
FAUST_WORKER_MODULES = ("onex_stream", "onex_stream.worker", "onex_stream.bootstrap")
CORE_MAY_IMPORT = frozenset({"pydantic", "pydantic_core", "yaml", "typing_extensions"})
ENVIRONMENT_READERS = frozenset({"environ", "environb", "getenv", "getenvb"})
PROTOCOL_MODULES = frozenset({"typing", "typing_extensions"})
PROTOCOL_WORD = re.compile(r"\bProtocol\b")
WIRING = Path("onex_stream", "infra", "runtime", "wiring.py")
REGISTRY = "HANDLER_REGISTRY"
REGISTRY_WRITES = frozenset(
    {"update", "setdefault", "pop", "popitem", "clear", "__setitem__", "__delitem__"}
)


def imports_of(path: Path) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in ``path``."""
    package = _module_name(path).rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            yield node.lineno, base
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def _module_name(path: Path) -> str:
    parts = list(path.with_suffix("").parts)
    parts = parts[parts.index("onex_stream") :]
    if parts[-1] == "__init__":
        parts.append("_")
    return ".".join(parts)


def _top(module: str) -> str:
    return module.split(".", maxsplit=1)[0]


def _is_stdlib(module: str) -> bool:
    return _top(module) in sys.stdlib_module_names


def layer_violations(root: Path) -> Iterator[str]:
    """Layer rule violations under ``root/onex_stream``."""
    for layer in ("core", "spi"):
        for path in sorted((root / "onex_stream" / layer).rglob("*.py")):
            for line, module in imports_of(path):
                reason = _layer_reason(layer, module)
                if reason:
                    yield f"{path.relative_to(root)}:{line}: {layer} imports {module}: {reason}"


def _layer_reason(layer: str, module: str) -> str | None:
    if module.startswith("onex_stream.infra") or module == "onex_stream.infra":
        return "core and spi never import infra"
    if layer == "core" and module.startswith("onex_stream.spi"):
        return "core never imports spi"
    if module.startswith("onex_stream") or _top(module) == "__future__":
        return None
    if any(module == lib or module.startswith(f"{lib}.") for lib in IO_LIBRARIES):
        return "I/O and transport libraries belong in infra"
    if layer == "spi" and not _is_stdlib(module):
        return "spi imports only core and the standard library"
    if layer == "core" and not (_is_stdlib(module) or _top(module) in CORE_MAY_IMPORT):
        return "core imports only the standard library, pydantic and yaml"
    return None


def local_handler_violations(root: Path) -> Iterator[str]:
    """Imports of LocalHandler in infra or in a production entry point's module."""
    paths = set((root / "onex_stream" / "infra").rglob("*.py")) | _production_entry_modules(root)
    for path in sorted(paths):
        for line, module in imports_of(path):
            if module.startswith(LOCAL_HANDLER_MODULE) or module.endswith(".LocalHandler"):
                where = "infra" if "infra" in path.parts else "a production entry point"
                yield (
                    f"{path.relative_to(root)}:{line}: {where} imports LocalHandler "
                    "(dev/test only; production code must not use it)"
                )


def environment_violations(root: Path) -> Iterator[str]:
    """Reads of the process environment by a module under ``onex_stream/infra/handlers``."""
    for path in sorted((root / "onex_stream" / "infra" / "handlers").rglob("*.py")):
        for line, name in _environment_reads(path):
            yield (
                f"{path.relative_to(root)}:{line}: a handler reads the process environment "
                f"({name}); handlers get config and resolved secrets from initialize"
            )


def _environment_reads(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    aliases = {"os"} | {  # names bound to the os module (import os as system)
        alias.asname
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if alias.name == "os" and alias.asname
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "os" and not node.level:
            for alias in node.names:
                if alias.name in ENVIRONMENT_READERS:
                    yield node.lineno, f"from os import {alias.name}"
        elif (
            isinstance(node, ast.Attribute)
            and node.attr in ENVIRONMENT_READERS
            and isinstance(node.value, ast.Name)
            and node.value.id in aliases
        ):
            yield node.lineno, f"os.{node.attr}"


def protocol_violations(root: Path) -> Iterator[str]:
    """Classes under ``onex_stream/infra`` that subclass ``typing.Protocol``."""
    for path in sorted((root / "onex_stream" / "infra").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if not PROTOCOL_WORD.search(text):  # cheap: most modules need no parse
            continue
        tree = ast.parse(text, str(path))
        names, modules = _protocol_names(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(
                _is_protocol(base, names, modules) for base in node.bases
            ):
                yield (
                    f"{path.relative_to(root)}:{node.lineno}: infra declares a protocol "
                    f"(class {node.name} subclasses typing.Protocol); declare it in "
                    "onex_stream/spi, infra only implements protocols"
                )


def _protocol_names(tree: ast.Module) -> tuple[set[str], set[str]]:
    """Names bound to ``Protocol`` itself, and to the modules that define it."""
    names: set[str] = set()
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module in PROTOCOL_MODULES:
            names |= {a.asname or a.name for a in node.names if a.name == "Protocol"}
        elif isinstance(node, ast.Import):
            modules |= {a.asname or a.name for a in node.names if a.name in PROTOCOL_MODULES}
    return names, modules


def _is_protocol(base: ast.expr, names: set[str], modules: set[str]) -> bool:
    if isinstance(base, ast.Subscript):  # Protocol[T]
        base = base.value
    if isinstance(base, ast.Name):
        return base.id in names
    return (
        isinstance(base, ast.Attribute)
        and base.attr == "Protocol"
        and isinstance(base.value, ast.Name)
        and base.value.id in modules
    )


def registration_violations(root: Path) -> Iterator[str]:
    """Handler registration anywhere under ``onex_stream`` but ``infra/runtime/wiring.py``."""
    for path in sorted((root / "onex_stream").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if path.relative_to(root) == WIRING or not ("register_handler" in text or REGISTRY in text):
            continue
        tree = ast.parse(text, str(path))
        for node in (n for n in ast.walk(tree) if isinstance(n, ast.stmt | ast.expr)):
            what = _registration(node)
            if what:
                yield (
                    f"{path.relative_to(root)}:{node.lineno}: handler registration ({what}) "
                    f"outside {WIRING.as_posix()}, the one place handlers are registered"
                )


def _registration(node: ast.stmt | ast.expr) -> str | None:
    """What ``node`` does to register a handler, if anything."""
    if isinstance(node, ast.Call):
        called = _name(node.func)
        if called == "register_handler":
            return "register_handler call"
        if (
            isinstance(node.func, ast.Attribute)
            and node.func.attr in REGISTRY_WRITES
            and _name(node.func.value) == REGISTRY
        ):
            return f"{REGISTRY}.{node.func.attr}"
        return None
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign | ast.Delete):
        targets = list(node.targets)
    elif isinstance(node, ast.AugAssign | ast.AnnAssign):
        targets = [node.target]
    for target in targets:
        written = target.value if isinstance(target, ast.Subscript) else target
        if _name(written) == REGISTRY:
            return f"{REGISTRY} written"
    return None


def _name(node: ast.expr) -> str | None:
    """``x`` for the name ``x`` or an attribute ``a.b.x``."""
    if isinstance(node, ast.Name):
        return node.id
    return node.attr if isinstance(node, ast.Attribute) else None


def _production_entry_modules(root: Path) -> set[Path]:
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    modules = {
        target.split(":")[0]
        for name, target in project.get("scripts", {}).items()
        if name not in DEV_ENTRY_POINTS
    } | set(FAUST_WORKER_MODULES)
    paths = set()
    for module in modules:
        base = root / Path(*module.split("."))
        paths |= {base.with_suffix(".py"), base / "__init__.py"}
    return {path for path in paths if path.is_file()}


def main(argv: list[str]) -> int:
    """Print every violation as ``file:line: message``; exit 1 if any."""
    root = Path(argv[0] if argv else ".").resolve()
    violations = [
        *layer_violations(root),
        *local_handler_violations(root),
        *environment_violations(root),
        *protocol_violations(root),
        *registration_violations(root),
    ]
    for violation in violations:
        print(violation)
    print(f"architecture check: {len(violations)} violation(s)", file=sys.stderr)
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
