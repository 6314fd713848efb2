"""Writing runtime and node contracts into a test's directory."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

ECHO_NODE = """\
schema_version: "1.0.0"
name: "echo_node"
node_type: "COMPUTE"
io_operations:
  - {type: local, operations: ["local.echo", "local.transform"]}
"""


def write_contract(root: Path, runtime: str, nodes: Mapping[str, str]) -> Path:
    """``root/runtime/host.yaml`` with ``nodes`` (slug -> YAML) under ``root/nodes``."""
    (root / "runtime").mkdir(parents=True, exist_ok=True)
    (root / "nodes").mkdir(exist_ok=True)
    for slug, text in nodes.items():
        (root / "nodes" / f"{slug}.yaml").write_text(text)
    path = root / "runtime" / "host.yaml"
    path.write_text(runtime)
    return path
