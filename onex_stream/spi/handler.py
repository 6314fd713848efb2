"""ProtocolHandler: the abstract per-request handler (http, db, vault, consul...)."""

from __future__ import annotations

from abc import ABC
from typing import ClassVar

from onex_stream.core.ports import HandlerPort


class ProtocolHandler(HandlerPort, ABC):
    """Base class of every handler implementation in infra.

    A handler performs ONE operation per envelope (``http.get``, ``db.query``...)
    and returns its response payload; it raises ``RuntimeHostError`` subclasses,
    never a library exception. It is NOT an event bus: it never consumes or
    publishes envelopes, never creates tasks or threads, and does no blocking I/O.
    Handlers are singletons per runtime host: ``initialize`` once before any
    ``execute``, ``shutdown`` exactly once. See ``ProtocolEventBus`` for transport
    and ``onex_stream/spi/README.md`` for the distinction.
    """

    #: Whether ``execute`` ends every call by itself within its config's ``timeout_ms``,
    #: raising ``HandlerTimeoutError``: the runtime then stacks no timeout policy around
    #: it (one deadline per call, not two).
    bounds_own_calls: ClassVar[bool] = False
