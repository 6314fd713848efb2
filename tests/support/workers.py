"""Runtime host workers as real subprocesses (``faust -A ... worker``), for tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
FAUST = str(Path(sys.executable).parent / "faust")


class WorkerProcess:
    """``ONEX_CONTRACT=<contract> faust -A <app> worker``, its output collected live."""

    def __init__(
        self,
        contract: Path,
        app: str = "onex_stream",
        *,
        web: bool = False,
        cwd: Path = REPO,
        **env: str,
    ) -> None:
        base = {k: v for k, v in os.environ.items() if not k.startswith("ONEX_")}
        self.env = {
            **base,
            "ONEX_ENV": "test",
            "ONEX_CONTRACT": str(contract),
            "PYTHONPATH": str(REPO),
            **env,
        }
        self.app = app
        self.web = web  # serve the contract's health port (else ``--without-web``)
        self.cwd = cwd  # ``faust -A`` imports the app from here first
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self.process: subprocess.Popen[str] | None = None

    def start(self) -> WorkerProcess:
        """Start the worker (returns at once)."""
        web = [] if self.web else ["--without-web"]
        self.process = subprocess.Popen(
            [FAUST, "-A", self.app, "worker", *web, "-l", "info"],
            env=self.env,
            cwd=self.cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def wait_for(self, text: str, timeout: float = 30, after: int = 0) -> int:
        """Wait until a line (index >= ``after``) contains ``text``; its index."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for index in range(after, len(self.lines)):
                    if text in self.lines[index]:
                        return index
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (
                    self.process and self.process.poll() is not None and not self._reader_alive
                ):
                    raise AssertionError(f"no {text!r} in worker output:\n{self.output[-4000:]}")
                self._changed.wait(min(remaining, 0.05))

    def wait_ready(self, timeout: float = 30) -> None:
        """Wait until the host logs that it consumes its topics."""
        self.wait_for("RuntimeHost ready", timeout)

    def signal(self, sig: signal.Signals) -> None:
        """Send ``sig`` to the worker."""
        assert self.process is not None
        self.process.send_signal(sig)

    def wait(self, timeout: float = 30) -> int:
        """Wait for the worker to exit; its exit code."""
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        """Kill the worker if it still runs."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    @property
    def output(self) -> str:
        """Everything the worker printed so far."""
        return "".join(self.lines)

    _reader_alive = True

    def _read(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._reader_alive = False
            self._changed.notify_all()
