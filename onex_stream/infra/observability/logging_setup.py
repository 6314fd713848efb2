"""Logging set up once per process: JSON lines (production) or a human format (dev)."""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from onex_stream.core.errors import HostStartError, cannot_start
from onex_stream.infra.observability.log_context import CONTEXT_FIELDS, ContextFilter
from onex_stream.infra.observability.log_rate_limit import RateLimitFilter
from onex_stream.infra.observability.redaction import RedactionFilter

_CONFIGURED = "_onex_configured"


class HumanFormatter(logging.Formatter):
    """``time level logger message key=value...`` for a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        """The base line plus the envelope context present on the record."""
        context = " ".join(
            f"{key}={getattr(record, key)}"
            for key in CONTEXT_FIELDS[1:]
            if getattr(record, key, "")
        )
        line = super().format(record)
        return f"{line} [{context}]" if context else line


class StartFaultFilter(logging.Filter):
    """A start fault that Faust's worker logs with a traceback becomes its one located line."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the record's message and drop its traceback when it carries a start fault."""
        fault = record.exc_info[1] if record.exc_info else None
        if isinstance(fault, HostStartError):
            record.msg, record.args = cannot_start(fault), ()
            record.exc_info, record.exc_text = None, None
        return True


def json_formatter() -> logging.Formatter:
    """timestamp, level, logger, message and the context fields, one JSON object a line."""
    return JsonFormatter(
        "{asctime}{levelname}{name}{message}",
        style="{",
        rename_fields={"asctime": "timestamp", "levelname": "level", "name": "logger"},
    )


def configure_logging(runtime_id: str, *, human: bool = False, level: int | None = None) -> None:
    """Format, annotate and redact every root handler (adds one if there is none).

    Idempotent: handlers already configured are left alone.
    """
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler(sys.stderr))
    if level is not None:
        root.setLevel(level)
    for handler in root.handlers:
        if getattr(handler, _CONFIGURED, False):
            continue
        handler.setFormatter(HumanFormatter() if human else json_formatter())
        handler.addFilter(StartFaultFilter())
        handler.addFilter(RateLimitFilter())
        handler.addFilter(ContextFilter(runtime_id))
        handler.addFilter(RedactionFilter())
        setattr(handler, _CONFIGURED, True)
