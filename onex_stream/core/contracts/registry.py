"""FileRegistry: node contracts from files, and a runtime contract with its nodes."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from onex_stream.core.contracts.loader import (
    check_node_contract,
    check_runtime_contract,
)
from onex_stream.core.contracts.node_contract import ModelNodeContract
from onex_stream.core.contracts.runtime_contract import ModelRuntimeHostContract
from onex_stream.core.contracts.yaml_source import YamlDocument
from onex_stream.core.errors import ContractValidationError


@dataclass(frozen=True)
class HostDefinition:
    """A loaded runtime contract, the node contracts it names, and the runtime contract's
    parsed YAML (``document``: where each key is declared, for located start errors)."""

    path: Path
    contract: ModelRuntimeHostContract
    nodes: tuple[ModelNodeContract, ...]
    document: YamlDocument = field(compare=False, repr=False)
    warnings: tuple[str, ...] = field(default=())


class FileRegistry:
    """Loads contracts from the filesystem; every failure is a located finding.

    Relative paths in a runtime contract (``nodes_dir``) resolve from the contract
    file's directory; symbolic links are followed; ``~`` is not expanded.
    """

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self._env = os.environ if env is None else env

    def load_host(self, path: Path | str) -> HostDefinition:
        """Load a runtime contract and its nodes; raises the first finding."""
        definition, findings = self.check_host(path)
        if findings or definition is None:
            raise findings[0]
        return definition

    def check_host(
        self, path: Path | str
    ) -> tuple[HostDefinition | None, list[ContractValidationError]]:
        """Check a runtime contract and its nodes; returns every finding."""
        path = Path(path)
        report = check_runtime_contract(path, env=self._env)
        if report.contract is None or report.document is None or report.findings:
            return None, report.findings
        contract, document = report.contract, report.document
        nodes_dir = path.parent / contract.runtime.nodes_dir
        nodes: list[ModelNodeContract] = []
        findings: list[ContractValidationError] = []
        for index, ref in enumerate(contract.runtime.nodes):
            node_path = nodes_dir / f"{ref.slug}.yaml"
            location = ("runtime", "nodes", index, "slug")
            if not node_path.is_file():
                findings.append(
                    document.error(
                        location,
                        f"Node contract for '{ref.slug}' not found",
                        f"Expected {node_path} (nodes_dir: {contract.runtime.nodes_dir!r})",
                        "Create the node contract or fix the slug / nodes_dir",
                    )
                )
                continue
            node_report = check_node_contract(node_path, env=self._env)
            findings += node_report.findings
            node = node_report.contract
            if node is not None and node.name != ref.slug:
                findings.append(
                    document.error(
                        location,
                        f"Node contract {node_path.name} is named '{node.name}', not '{ref.slug}'",
                        "A node contract's name must equal the slug that references it",
                        "Rename the node contract or the slug",
                    )
                )
            elif node is not None:
                nodes.append(node)
        if findings:
            return None, findings
        warnings = [*report.warnings, *unbound_handler_warnings(contract, nodes)]
        return HostDefinition(path, contract, tuple(nodes), document, tuple(warnings)), []


def unbound_handler_warnings(
    contract: ModelRuntimeHostContract, nodes: list[ModelNodeContract]
) -> list[str]:
    """Warnings for node operations of a handler type that is not enabled."""
    bound = {h.type for h in contract.runtime.handlers if h.enabled}
    return [
        f"node '{node.name}' declares {io.type.value} operations but no {io.type.value} "
        "handler is enabled: they will be answered with HANDLER_NOT_FOUND"
        for node in nodes
        for io in node.io_operations
        if io.type not in bound
    ]
