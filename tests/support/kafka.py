"""A real Kafka-protocol broker for tests: tansu (the dev tools' one), optionally behind a
proxy the test controls."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from onex_stream.devtools.tansu import Tansu
from tests.support.tcp_proxy import TcpProxy, free_port


@dataclass
class TansuBroker:
    """A tansu broker (memory storage) on a free loopback port.

    With a ``proxy_class`` the broker advertises a proxy in front of it, so every
    client connection (bootstrap and reconnects) goes through the proxy.
    """

    proxy_class: type[TcpProxy] | None = None
    log_path: Path | None = None
    port: int = field(default_factory=free_port)
    proxy: TcpProxy | None = None
    _tansu: Tansu | None = None

    @property
    def bootstrap(self) -> str:
        """``host:port`` for clients."""
        port = self.proxy.port if self.proxy else self.port
        return f"127.0.0.1:{port}"

    def start(self) -> TansuBroker:
        """Start the broker and wait until it accepts connections."""
        if self.proxy_class is not None:
            self.proxy = self.proxy_class(self.port)
            self.proxy.start()
        advertised = self.proxy.port if self.proxy else None
        self._tansu = Tansu.start(self.log_path, port=self.port, advertised_port=advertised)
        return self

    def stop(self) -> None:
        """Stop the broker (and the proxy)."""
        if self._tansu is not None:
            self._tansu.stop()
        if self.proxy is not None:
            self.proxy.stop()
