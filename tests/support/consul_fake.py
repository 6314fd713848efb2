"""A fake Consul agent (aiohttp) of the documented agent/catalog/health endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

SERVICE_FIELDS = {"ID", "Name", "Tags", "Address", "Port", "Meta", "Check", "Checks"}
CHECK_FIELDS = {"HTTP", "TCP", "Interval", "Timeout", "DeregisterCriticalServiceAfter", "Name"}
NODE = {"Node": "agent-one", "Address": "10.0.0.7", "Datacenter": "dc1"}


@dataclass
class Seen:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class FakeConsul:
    """The fake's state: registered services, their checks, and the requests received.

    It answers like Consul: new checks start ``critical``; unknown fields and a missing
    ``Name`` are refused with 400, unknown service ids with 404, an unknown ``dc`` with
    500, a wrong ``X-Consul-Token`` with 403.
    """

    token: str | None = None
    datacenter: str = "dc1"
    address: str = ""
    services: dict[str, dict[str, Any]] = field(default_factory=dict)
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    seen: list[Seen] = field(default_factory=list)

    def set_check(self, service_id: str, status: str, output: str = "") -> None:
        """Set the status of a registered service's check (as Consul's check runner would)."""
        check = self.checks[f"service:{service_id}"]
        check.update(Status=status, Output=output)

    def app(self) -> web.Application:
        """The aiohttp application serving the endpoints."""
        app = web.Application(middlewares=[self._record])
        app.router.add_put("/v1/agent/service/register", self._register)
        app.router.add_put("/v1/agent/service/deregister/{id}", self._deregister)
        app.router.add_get("/v1/health/service/{name}", self._health_service)
        app.router.add_get("/v1/catalog/services", self._catalog)
        app.router.add_get("/v1/health/checks/{name}", self._health_checks)
        return app

    @web.middleware
    async def _record(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        raw = await request.read()
        body = await request.json() if raw else None
        self.seen.append(
            Seen(request.method, request.path, dict(request.query), dict(request.headers), body)
        )
        if self.token is not None and request.headers.get("X-Consul-Token") != self.token:
            return web.Response(status=403, text="Permission denied")
        dc = request.query.get("dc")
        if dc is not None and dc != self.datacenter:
            return web.Response(status=500, text=f"No path to datacenter {dc}")
        return await handler(request)

    async def _register(self, request: web.Request) -> web.Response:
        body = await request.json()
        unknown = set(body) - SERVICE_FIELDS | set(body.get("Check") or {}) - CHECK_FIELDS
        if unknown or not body.get("Name"):
            return web.Response(status=400, text=f"Request decode failed: {sorted(unknown)}")
        service_id = body.get("ID") or body["Name"]
        self.services[service_id] = body
        if body.get("Check"):
            self.checks[f"service:{service_id}"] = {
                "Node": NODE["Node"],
                "CheckID": f"service:{service_id}",
                "Name": f"Service '{body['Name']}' check",
                "Status": "critical",
                "Output": "",
                "ServiceID": service_id,
                "ServiceName": body["Name"],
            }
        return web.Response(status=200)

    async def _deregister(self, request: web.Request) -> web.Response:
        service_id = request.match_info["id"]
        if service_id not in self.services:
            return web.Response(status=404, text=f'Unknown service ID "{service_id}"')
        del self.services[service_id]
        self.checks.pop(f"service:{service_id}", None)
        return web.Response(status=200)

    def _of(self, name: str) -> list[tuple[str, dict[str, Any]]]:
        return [(i, s) for i, s in self.services.items() if s["Name"] == name]

    def _checks_of(self, service_id: str) -> list[dict[str, Any]]:
        return [c for c in self.checks.values() if c["ServiceID"] == service_id]

    async def _health_service(self, request: web.Request) -> web.Response:
        passing = request.query.get("passing") in ("", "true", "1")
        entries = []
        for service_id, service in self._of(request.match_info["name"]):
            checks = self._checks_of(service_id)
            if passing and any(c["Status"] != "passing" for c in checks):
                continue
            entries.append(
                {
                    "Node": NODE,
                    "Service": {
                        "ID": service_id,
                        "Service": service["Name"],
                        "Tags": service.get("Tags") or [],
                        "Address": service.get("Address", ""),
                        "Meta": service.get("Meta") or {},
                        "Port": service.get("Port", 0),
                    },
                    "Checks": checks,
                }
            )
        return web.json_response(entries)

    async def _catalog(self, request: web.Request) -> web.Response:
        services: dict[str, list[str]] = {"consul": []}
        for service in self.services.values():
            tags = services.setdefault(service["Name"], [])
            tags.extend(t for t in service.get("Tags") or [] if t not in tags)
        return web.json_response(services)

    async def _health_checks(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        return web.json_response([c for c in self.checks.values() if c["ServiceName"] == name])


@pytest.fixture
async def fake_consul() -> AsyncIterator[FakeConsul]:
    """A fake Consul agent on 127.0.0.1 (a free port) requiring the token ``consul-acl-1``."""
    fake = FakeConsul(token="consul-acl-1")
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server(access_log=None)
    fake.address = f"http://127.0.0.1:{server.port}"
    yield fake
    await server.close()
