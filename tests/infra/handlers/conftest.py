"""Real servers for the handler tests: an aiohttp server on loopback and PostgreSQL."""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.ports import HandlerPort
from tests.support import postgres
from tests.support.postgres import EmbeddedPostgres

CORRELATION_ID = UUID(int=4242)
postgres_server = postgres.postgres_server  # the session's PostgreSQL (tests/support/postgres.py)


def command(operation: str, payload: dict[str, Any] | None) -> ModelOnexEnvelope:
    """A command envelope for ``operation`` (its handler type is the operation's domain)."""
    return ModelOnexEnvelope(
        envelope_id=uuid4(),
        correlation_id=CORRELATION_ID,
        source_node="tests",
        handler_type=EnumHandlerType(operation.partition(".")[0]),
        operation=operation,
        payload=payload,
    )


async def run(handler: HandlerPort, operation: str, **payload: Any) -> dict[str, Any]:
    """The answer of ``<handler type>.<operation>`` with ``payload`` (a mapping answer)."""
    result = await handler.execute(command(f"{handler.handler_type.value}.{operation}", payload))
    assert isinstance(result, dict)
    return result


@dataclass
class WebServer:
    """A real HTTP server on 127.0.0.1 and what it received."""

    base: str
    port: int
    seen: list[web.Request] = field(default_factory=list)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str) -> str:
        """Absolute URL of ``path`` on this server."""
        return f"{self.base}{path}"

    def paths(self) -> list[str]:
        """Paths requested so far, in order."""
        return [request.path for request in self.seen]


def _routes(server: WebServer) -> web.RouteTableDef:
    routes = web.RouteTableDef()

    @routes.route("*", "/echo")
    async def echo(request: web.Request) -> web.Response:
        body = await request.text()
        return web.json_response(
            {
                "method": request.method,
                "query": dict(request.query),
                "content_type": request.content_type,
                "body": body,
                "x_trace": request.headers.get("X-Trace"),
                "host": request.host,
            },
            headers={"X-Server": "aiohttp-test"},
        )

    @routes.get("/status/{code}")
    async def status(request: web.Request) -> web.Response:
        return web.json_response({"status": "failed"}, status=int(request.match_info["code"]))

    @routes.get("/text")
    async def text(request: web.Request) -> web.Response:
        charset = request.query.get("charset", "utf-8")
        raw = "caf\u00e9".encode(charset if charset != "bogus" else "utf-8")
        return web.Response(body=raw, headers={"Content-Type": f"text/plain; charset={charset}"})

    @routes.get("/broken-json")
    async def broken_json(request: web.Request) -> web.Response:
        return web.Response(text="{not json", content_type="application/json")

    @routes.get("/redirect")
    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(request.query["to"])

    @routes.get("/hops/{n}")
    async def hops(request: web.Request) -> web.Response:
        n = int(request.match_info["n"])
        if n == 0:
            return web.json_response({"arrived": True})
        raise web.HTTPFound(f"/hops/{n - 1}")

    @routes.get("/bytes/{size}")
    async def many_bytes(request: web.Request) -> web.StreamResponse:
        size = int(request.match_info["size"])
        response = web.StreamResponse()  # chunked: no Content-Length to trust
        await response.prepare(request)
        for start in range(0, size, 512):
            await response.write(b"x" * min(512, size - start))
        await response.write_eof()
        return response

    @routes.get("/gzip/{size}")
    async def gzipped(request: web.Request) -> web.Response:
        """``size`` bytes of "x", sent gzip-compressed with its (small) Content-Length."""
        body = gzip.compress(b"x" * int(request.match_info["size"]))
        return web.Response(body=body, headers={"Content-Encoding": "gzip"})

    @routes.get("/stall")
    async def stall(request: web.Request) -> web.Response:
        await server.release.wait()
        return web.json_response({"late": True})

    @routes.get("/stall-body")
    async def stall_body(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"first part")
        await server.release.wait()
        return response

    @routes.get("/set-cookie")
    async def set_cookie(request: web.Request) -> web.Response:
        response = web.json_response({"set": True})
        response.set_cookie("session", "caller-one-session")
        return response

    @routes.get("/cookies")
    async def cookies(request: web.Request) -> web.Response:
        return web.json_response({"cookie": request.headers.get("Cookie")})

    return routes


@pytest.fixture
async def web_server() -> AsyncIterator[WebServer]:
    """A real aiohttp server on 127.0.0.1 (a free port), recording every request."""
    app = web.Application()
    test_server = TestServer(app, host="127.0.0.1")
    server = WebServer(base="", port=0)

    @web.middleware
    async def record(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        server.seen.append(request)
        return await handler(request)

    app.middlewares.append(record)
    app.add_routes(_routes(server))
    await test_server.start_server(access_log=None)  # the server logs query strings
    server.port = test_server.port or 0
    server.base = f"http://127.0.0.1:{server.port}"
    yield server
    server.release.set()
    await test_server.close()


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@dataclass
class FakeDns:
    """Answers of this test's event loop to ``getaddrinfo``, and the names it was asked."""

    answers: dict[str, list[str]] = field(default_factory=dict)
    asked: list[str] = field(default_factory=list)

    async def getaddrinfo(self, host: str, port: int, *args: Any, **kwargs: Any) -> list[Any]:
        """Like ``loop.getaddrinfo``: IP literals answer themselves, unknown names fail."""
        self.asked.append(host)
        addresses = [host] if _is_ip(host) else self.answers.get(host)
        if addresses is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in addresses
        ]


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


@pytest.fixture
async def fake_dns(monkeypatch: pytest.MonkeyPatch) -> FakeDns:
    """Replaces name resolution of the running loop (only answers loopback addresses)."""
    dns = FakeDns()
    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", dns.getaddrinfo)
    return dns


@pytest.fixture
async def started() -> AsyncIterator[Callable[..., Awaitable[Any]]]:
    """Initialize handlers with a config; every one is shut down after the test."""
    handlers: list[HandlerPort] = []

    async def start(handler: HandlerPort, **config: Any) -> Any:
        await handler.initialize(config)
        handlers.append(handler)
        return handler

    yield start
    for handler in handlers:
        await handler.shutdown()


@dataclass
class Database:
    """A fresh schema on the session's PostgreSQL: a DSN that uses it, and an admin link."""

    dsn: str
    schema: str
    admin: asyncpg.Connection[asyncpg.Record]


@pytest.fixture
async def database(postgres_server: EmbeddedPostgres) -> AsyncIterator[Database]:
    """A schema of its own for each test (dropped afterwards) with an ``items`` table."""
    schema = f"t_{uuid4().hex[:12]}"
    admin = await asyncpg.connect(postgres_server.dsn)
    await admin.execute(f"CREATE SCHEMA {schema}")
    await admin.execute(f"SET search_path TO {schema}")
    await admin.execute("CREATE TABLE items (id int PRIMARY KEY, name text NOT NULL)")
    yield Database(f"{postgres_server.dsn}?search_path={schema}", schema, admin)
    await admin.execute(f"DROP SCHEMA {schema} CASCADE")
    await admin.close()
