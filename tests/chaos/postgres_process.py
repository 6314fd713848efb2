"""Stopping and restarting an embedded PostgreSQL server on its port and data directory.

``EmbeddedPostgres`` (onex_stream.devtools) starts a server and, on ``stop()``, deletes its
data directory; a chaos scenario needs the same server back on the same port with its
data, so this runs ``pg_ctl`` itself, asynchronously (the host under test keeps running on
the same event loop meanwhile).
"""

from __future__ import annotations

import asyncio
import shlex
import warnings
from dataclasses import dataclass

from onex_stream.devtools.embedded_postgres import EmbeddedPostgres

with warnings.catch_warnings():  # platformdirs warns on import when XDG_RUNTIME_DIR is unset
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH


@dataclass
class PostgresProcess:
    """``server``'s postmaster, stopped and started with ``pg_ctl``."""

    server: EmbeddedPostgres

    async def stop(self, mode: str = "fast") -> None:
        """Stop the server and wait until it is gone. ``fast`` (an operator's stop, pg_ctl's
        default): sessions are ended with 57P01 admin_shutdown, open transactions rolled
        back; ``immediate``: a crash, recovered at the next start."""
        await self._pg_ctl("-w", "-m", mode, "stop")

    async def start(self) -> None:
        """Start it again with the options it last ran with (its ``postmaster.opts``: same
        port, socket directory and settings); returns once it accepts connections."""
        datadir = self.server.datadir
        ran = shlex.split((datadir / "data" / "postmaster.opts").read_text())
        options = shlex.join(_without_datadir(ran[1:]))
        await self._pg_ctl("-w", "-o", options, "-l", str(datadir / "log"), "start")

    async def _pg_ctl(self, *args: str) -> None:
        process = await asyncio.create_subprocess_exec(
            str(POSTGRES_BIN_PATH / "pg_ctl"),
            "-D",
            str(self.server.datadir / "data"),
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            user=self.server.user,
        )
        output, _ = await asyncio.wait_for(process.communicate(), 60)
        if process.returncode != 0:
            raise RuntimeError(f"pg_ctl {' '.join(args)} failed: {output.decode(errors='replace')}")


def _without_datadir(arguments: list[str]) -> list[str]:
    """``postgres`` arguments without ``-D <dir>`` (``pg_ctl -D`` gives it)."""
    kept, skip = [], False
    for argument in arguments:
        if skip:
            skip = False
        elif argument == "-D":
            skip = True
        else:
            kept.append(argument)
    return kept
