"""Envelope ids for every log record made while an envelope is handled (context vars)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

from onex_stream.core.envelope import ModelOnexEnvelope

CONTEXT_FIELDS = ("runtime_id", "node_id", "handler_type", "envelope_id", "correlation_id")
_context: ContextVar[Mapping[str, str] | None] = ContextVar("onex_log_context", default=None)


@contextmanager
def envelope_context(envelope: ModelOnexEnvelope, node_id: str) -> Iterator[None]:
    """Within the block, log records carry this envelope's ids (per task, never mixed)."""
    fields = {
        "node_id": node_id,
        "handler_type": envelope.handler_type.value if envelope.handler_type else "",
        "envelope_id": str(envelope.envelope_id),
        "correlation_id": str(envelope.correlation_id or ""),
    }
    token = _context.set(fields)
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    """Adds ``runtime_id`` and the current envelope's ids to every record."""

    def __init__(self, runtime_id: str) -> None:
        super().__init__()
        self.runtime_id = runtime_id

    def filter(self, record: logging.LogRecord) -> bool:
        """Annotate ``record``; never drops it."""
        record.runtime_id = self.runtime_id
        for key, value in (_context.get() or {}).items():
            setattr(record, key, value)
        return True
