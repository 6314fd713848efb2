"""Where a runtime contract declares something, as ``file:line`` for one-line errors."""

from __future__ import annotations

from pathlib import Path

from onex_stream.core.contracts.yaml_source import parse_yaml
from onex_stream.core.errors import ContractValidationError


def handler_location(path: Path, handler_type: str | None) -> str:
    """``file:line`` of the ``runtime.handlers`` entry of ``handler_type`` (or of the list)."""
    try:
        document = parse_yaml(path.read_text(encoding="utf-8"), str(path))
    except (OSError, ContractValidationError):
        return str(path)
    handlers = ((document.data or {}).get("runtime") or {}).get("handlers") or []
    index = next(
        (
            i
            for i, h in enumerate(handlers)
            if isinstance(h, dict) and h.get("type") == handler_type
        ),
        None,
    )
    where = document.position_of(("runtime", "handlers", *(() if index is None else (index,))))
    return f"{path}:{where.line}" if where else str(path)
