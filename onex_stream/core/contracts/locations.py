"""Where a runtime contract declares something, as ``file:line`` for one-line errors."""

from __future__ import annotations

from pathlib import Path

from onex_stream.core.contracts.yaml_source import YamlDocument, parse_yaml
from onex_stream.core.errors import ContractValidationError


def key_location(path: Path, keys: tuple[str | int, ...]) -> str:
    """``file:line`` of ``keys`` (or of its nearest declared ancestor) in ``path``."""
    document = _document(path)
    where = document.position_of(keys) if document else None
    return f"{path}:{where.line}" if where else str(path)


def handler_location(path: Path, handler_type: str | None) -> str:
    """``file:line`` of the ``runtime.handlers`` entry of ``handler_type`` (or of the list)."""
    document = _document(path)
    data = document.data if document and isinstance(document.data, dict) else {}
    handlers = (data.get("runtime") or {}).get("handlers") or []
    index = next(
        (
            i
            for i, h in enumerate(handlers)
            if isinstance(h, dict) and h.get("type") == handler_type
        ),
        None,
    )
    return key_location(path, ("runtime", "handlers", *(() if index is None else (index,))))


def _document(path: Path) -> YamlDocument | None:
    try:
        return parse_yaml(path.read_text(encoding="utf-8"), str(path))
    except (OSError, ContractValidationError):
        return None
