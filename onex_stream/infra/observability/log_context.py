"""Envelope ids for every log record made while an envelope is handled (context vars)."""

from __future__ import annotations

import logging
from contextvars import ContextVar

from onex_stream.core.envelope import ModelOnexEnvelope

CONTEXT_FIELDS = ("runtime_id", "node_id", "handler_type", "envelope_id", "correlation_id")
_context: ContextVar[tuple[ModelOnexEnvelope, str] | None] = ContextVar(
    "onex_log_context", default=None
)


class envelope_context:  # noqa: N801 -- used like the function-style context managers
    """Within the block, log records carry this envelope's ids (per task, never mixed).

    Only the envelope is remembered: its ids are formatted when a record is made, not
    for every envelope handled.
    """

    __slots__ = ("_current", "_token")

    def __init__(self, envelope: ModelOnexEnvelope, node_id: str) -> None:
        self._current = (envelope, node_id)

    def __enter__(self) -> None:
        self._token = _context.set(self._current)

    def __exit__(self, *exc: object) -> None:
        _context.reset(self._token)


def _fields(envelope: ModelOnexEnvelope, node_id: str) -> dict[str, str]:
    return {
        "node_id": node_id,
        "handler_type": envelope.handler_type.value if envelope.handler_type else "",
        "envelope_id": str(envelope.envelope_id),
        "correlation_id": str(envelope.correlation_id or ""),
    }


class ContextFilter(logging.Filter):
    """Adds ``runtime_id`` and the current envelope's ids to every record."""

    def __init__(self, runtime_id: str) -> None:
        super().__init__()
        self.runtime_id = runtime_id

    def filter(self, record: logging.LogRecord) -> bool:
        """Annotate ``record``; never drops it."""
        record.runtime_id = self.runtime_id
        current = _context.get()
        if current is not None:
            for key, value in _fields(*current).items():
                setattr(record, key, value)
        return True
