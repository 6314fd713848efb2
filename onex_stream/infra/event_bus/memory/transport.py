"""The Faust ``memory://`` transport: same-loop consumer and producer over an in-process broker."""

from __future__ import annotations

import asyncio
from importlib.metadata import version

from faust.exceptions import ImproperlyConfigured
from faust.transport import base
from faust.types import AppT
from faust.types.enums import ProcessingGuarantee
from yarl import URL

from .broker import MemoryBroker, get_broker
from .consumer import MemoryConsumer
from .producer import MemoryProducer


class Transport(base.Transport):
    """Faust transport for ``memory://`` URLs; ``memory://<name>`` selects a separate broker.

    Keeps Faust's base Conductor and Fetcher. Rejects ``processing_guarantee='exactly_once'``
    and ``producer_threaded``, which need Kafka transactions or a second event loop.
    """

    Consumer = MemoryConsumer
    Producer = MemoryProducer
    driver_version = f"memory=onex_stream-{version('onex_stream')}"

    def __init__(
        self, url: list[URL], app: AppT, loop: asyncio.AbstractEventLoop | None = None
    ) -> None:
        super().__init__(url, app, loop=loop)
        # mypy reads this Param descriptor as the enum class (see faust/transport/producer.py).
        guarantee: ProcessingGuarantee = app.conf.processing_guarantee  # type: ignore[assignment]
        if guarantee == ProcessingGuarantee.EXACTLY_ONCE:
            raise ImproperlyConfigured(
                "memory:// transport does not support processing_guarantee='exactly_once'"
            )
        if app.conf.producer_threaded:
            raise ImproperlyConfigured("memory:// transport does not support producer_threaded")
        self.broker: MemoryBroker = get_broker(str(url[0]))
