"""Strict YAML reading that remembers where every key stands (line and column)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from onex_stream.core.errors import ContractValidationError

Path_ = tuple[str | int, ...]
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True, slots=True)
class Position:
    """1-based line and column of a key (or list item) in its file."""

    line: int
    column: int


@dataclass(slots=True)
class YamlDocument:
    """Parsed data plus the position of every mapping key and list item."""

    file: str
    data: Any
    positions: dict[Path_, Position] = field(default_factory=dict)

    def position_of(self, path: Path_) -> Position | None:
        """Position of ``path``, or of its nearest known ancestor."""
        for end in range(len(path), -1, -1):
            found = self.positions.get(path[:end])
            if found is not None:
                return found
        return None

    def error(self, path: Path_, message: str, hint: str, action: str) -> ContractValidationError:
        """A ``ContractValidationError`` located at ``path``."""
        where = self.position_of(path)
        return ContractValidationError(
            message,
            file=self.file,
            line=where.line if where else None,
            column=where.column if where else None,
            hint=hint,
            action=action,
        )


def parse_yaml(text: str, file: str) -> YamlDocument:
    """Parse one YAML document; syntax errors and duplicate keys fail with a line."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise ContractValidationError(
            f"Invalid YAML syntax: {exc.problem or exc}",
            file=file,
            line=mark.line + 1 if mark else None,
            column=mark.column + 1 if mark else None,
            hint="The file must be a single valid YAML document",
            action="Fix the YAML syntax at the reported position",
        ) from None
    finally:
        loader.dispose()
    document = YamlDocument(file=file, data=data)
    if node is not None:
        _index(node, (), document)
    return document


def _index(node: yaml.Node, path: Path_, document: YamlDocument) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = str(key_node.value)
            child = (*path, key)
            mark = key_node.start_mark
            document.positions[child] = Position(mark.line + 1, mark.column + 1)
            if key in seen:
                raise document.error(
                    child,
                    f"Duplicate key '{key}'",
                    "Each key may appear once per mapping",
                    "Remove one of the duplicate keys",
                )
            seen.add(key)
            _index(value_node, child, document)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*path, index)
            mark = item.start_mark
            document.positions[child] = Position(mark.line + 1, mark.column + 1)
            _index(item, child, document)
