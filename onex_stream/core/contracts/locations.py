"""Where a runtime contract declares something, as ``file:line`` for one-line errors."""

from __future__ import annotations

from onex_stream.core.contracts.yaml_source import YamlDocument


def key_location(document: YamlDocument, keys: tuple[str | int, ...]) -> str:
    """``file:line`` of ``keys`` (or of its nearest declared ancestor) in ``document``."""
    where = document.position_of(keys)
    return f"{document.file}:{where.line}" if where else document.file


def handler_location(document: YamlDocument, handler_type: str | None) -> str:
    """``file:line`` of the ``runtime.handlers`` entry of ``handler_type`` (or of the list)."""
    data = document.data if isinstance(document.data, dict) else {}
    handlers = (data.get("runtime") or {}).get("handlers") or []
    index = next(
        (
            i
            for i, h in enumerate(handlers)
            if isinstance(h, dict) and h.get("type") == handler_type
        ),
        None,
    )
    return key_location(document, ("runtime", "handlers", *(() if index is None else (index,))))
