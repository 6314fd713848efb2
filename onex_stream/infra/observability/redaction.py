"""Log redaction: no secrets, no URL credentials, no forged lines (CR/LF neutralised)."""

from __future__ import annotations

import logging
import re
import sys

from onex_stream.core.secret_names import SECRET_NAME, mask_url_credentials

# key=value / key: value where the key is secret-looking (SECRET_NAME), e.g. api_key: abc
_SECRET_PAIR = re.compile(
    rf"(?P<key>[\w-]*(?:{SECRET_NAME.pattern})[\w-]*)"
    r"(?P<sep>['\"]?\s*[:=]\s*['\"]?)(?:bearer\s+)?(?P<value>[^\s'\",;&}]+)",
    re.IGNORECASE,
)
_LINE_BREAKS = str.maketrans({"\r": "\\r", "\n": "\\n"})


def redact(text: str) -> str:
    """``text`` with URL userinfo and ``secret=value`` pairs masked, CR/LF escaped."""
    text = mask_url_credentials(text)
    text = _SECRET_PAIR.sub(r"\g<key>\g<sep>***", text)
    return text.translate(_LINE_BREAKS)


class RedactionFilter(logging.Filter):
    """Renders each record's message once, redacted (on the handler, for every logger)."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the message with its redacted rendering.

        A message that cannot be rendered (an argument failing ``str()``, imports
        refused while the interpreter shuts down) is replaced by a notice, never passed
        on unredacted and never raised.
        """
        if sys.is_finalizing():
            return False
        try:
            record.msg = redact(record.getMessage())
        except Exception as exc:
            record.msg = f"<log message not rendered: {type(exc).__name__}>"
        record.args = None
        return True
