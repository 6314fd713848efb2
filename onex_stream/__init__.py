"""onex_stream: the ONEX Runtime Host as a Kafka stream processor on Faust agents.

``faust -A onex_stream worker`` runs the contract named by ``ONEX_CONTRACT``: the
``app`` attribute is built on first access, so a bare ``import onex_stream`` reads
no contract and starts nothing.
"""

from __future__ import annotations

from typing import Any

_app: Any = None


def __getattr__(name: str) -> Any:
    """Build ``app`` lazily from ``$ONEX_CONTRACT`` on first access."""
    global _app  # noqa: PLW0603 -- module-level cache of the lazily built app
    if name != "app":
        raise AttributeError(f"module 'onex_stream' has no attribute {name!r}")
    if _app is None:
        from onex_stream.worker import load_app  # noqa: PLC0415 -- lazy: import reads nothing

        _app = load_app()
    return _app
