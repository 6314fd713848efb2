"""RawSchema: command records reach the agents as the bytes the broker holds."""

from __future__ import annotations

from typing import Any

import faust


class RawSchema(faust.Schema[bytes, bytes]):
    """Keys and values as raw bytes, without Faust's serializer registry per record (the
    ``raw`` codec's answer, at a fraction of the cost); decoding is the codec's job."""

    def loads_key(self, app: Any, message: Any, **_: Any) -> Any:
        """The record's key bytes."""
        return message.key

    def loads_value(self, app: Any, message: Any, **_: Any) -> Any:
        """The record's value bytes."""
        return message.value
