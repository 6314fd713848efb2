"""A runtime host worker as a subprocess (``faust -A onex_stream worker``), for dev tools."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

import httpx

POLL_SECONDS = 0.05


class WorkerProcess:
    """``ONEX_CONTRACT=<contract> faust -A onex_stream worker``, its output in a log file."""

    def __init__(self, contract: Path, env: Mapping[str, str], web_port: int, log: Path) -> None:
        self.env = {**env, "ONEX_CONTRACT": str(contract)}
        self.web_port = web_port
        self.log = log
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def address(self) -> str:
        """The worker's web server: status page, health and metrics."""
        return f"http://127.0.0.1:{self.web_port}"

    def start(self) -> WorkerProcess:
        """Start the worker (its own session: Ctrl-C reaches only the caller); returns at once."""
        command = [sys.executable, "-m", "faust", "-A", "onex_stream", "worker",
                   "-l", "info", "--web-port", str(self.web_port)]  # fmt: skip
        with open(self.log, "wb") as out:
            self.process = subprocess.Popen(
                command, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self

    async def wait_ready(self, seconds: float) -> None:
        """Poll ``/health/ready`` until 200; RuntimeError if the worker exits or times out."""
        deadline = time.monotonic() + seconds
        async with httpx.AsyncClient(timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self.process is None or self.process.poll() is not None:
                    code = None if self.process is None else self.process.returncode
                    raise RuntimeError(f"the worker exited (code {code}) before it was ready")
                try:
                    if (await client.get(f"{self.address}/health/ready")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(POLL_SECONDS)
        raise RuntimeError(f"the worker was not ready within {seconds:g} s")

    def stop(self, grace_seconds: float) -> int | None:
        """SIGTERM (graceful drain), then kill after ``grace_seconds``; the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=grace_seconds)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait(timeout=10)

    def log_tail(self, lines: int = 20) -> str:
        """The last ``lines`` lines the worker printed."""
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])
