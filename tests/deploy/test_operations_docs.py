"""The operations docs cover what ships: every console script, every web endpoint, the
measured memory figure, and the README links to them."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"


def test_every_console_script_is_documented_for_each_environment() -> None:
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    guide = (DOCS / "CLI_ENVIRONMENTS.md").read_text()
    headings = re.findall(r"^### `([\w-]+)", guide, re.MULTILINE)
    assert set(scripts) <= set(headings), set(scripts) - set(headings)
    assert "ONEX_ENV" in guide and "faust -A onex_stream worker" in guide


def test_the_operations_guide_names_every_web_endpoint_private() -> None:
    guide = (DOCS / "operations.md").read_text()
    section = guide.split("## Private endpoints", 1)[1].split("\n## ", 1)[0]
    for path in ("/metrics", "/health/live", "/health/ready", "/health/handlers", "/status"):
        assert f"`{path}`" in section, path
    assert "127.0.0.1" in section and "0.0.0.0" in section


def test_the_migration_guide_quotes_the_memory_benchmark() -> None:
    guide = (DOCS / "MIGRATION_GUIDE.md").read_text()
    assert "tests/benchmarks/bench_host_memory.py" in guide
    assert (REPO / "tests" / "benchmarks" / "bench_host_memory.py").exists()
    one = re.search(r"1 host process, 10 nodes \| \*\*([\d.]+) MiB\*\*", guide)
    ten = re.search(r"10 host processes, 1 node each \| \*\*([\d.]+) MiB\*\*", guide)
    assert one and ten and float(ten.group(1)) > float(one.group(1))
    assert "Roll back" in guide


def test_the_readme_links_the_deployment_and_operations_docs() -> None:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Deployment and operations", 1)[1].split("\n## ", 1)[0]
    for doc in ("operations.md", "CLI_ENVIRONMENTS.md", "MIGRATION_GUIDE.md"):
        assert f"](docs/{doc})" in section, doc
        assert (DOCS / doc).exists()
