"""Latency of the http and db handlers beside the raw library calls they wrap.

Run: ``python tests/benchmarks/bench_handlers.py [-n N]``. Prints figures; asserts nothing.
Each handler call is interleaved with the raw call(s) in the same run, on the same servers:

- http.get against an aiohttp server on 127.0.0.1 vs a plain ``httpx.AsyncClient.get``;
- db.query ``SELECT 1`` on embedded PostgreSQL vs ``asyncpg`` ``pool.fetch`` and vs the
  same cursor-in-a-transaction read the handler does to bound ``max_rows``.

Targets from the plan: http p99 < 100 ms, db p99 < 50 ms, handler overhead < 20 %.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
from aiohttp import web
from aiohttp.test_utils import TestServer

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.infra.handlers.db import DbHandler
from onex_stream.infra.handlers.http import HttpHandler
from tests.support.postgres import EmbeddedPostgres

Call = Callable[[], Awaitable[Any]]


def envelope(operation: str, payload: dict[str, Any]) -> ModelOnexEnvelope:
    return ModelOnexEnvelope.model_validate(
        {
            "envelope_id": uuid4(),
            "correlation_id": uuid4(),
            "source_node": "bench",
            "handler_type": operation.partition(".")[0],
            "operation": operation,
            "payload": payload,
        }
    )


async def interleaved(calls: dict[str, Call], n: int) -> dict[str, list[float]]:
    """Run every call ``n`` times, round-robin after a warm-up; latencies in ms."""
    for call in calls.values():
        for _ in range(max(50, n // 20)):
            await call()
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(n):
        for name, call in calls.items():
            began = time.perf_counter()
            await call()
            samples[name].append((time.perf_counter() - began) * 1000)
    return samples


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1]


def report(title: str, samples: dict[str, list[float]], handler: str, target_p99: float) -> None:
    print(f"\n{title}")
    print(f"  {'variant':<34}{'p50 ms':>9}{'p99 ms':>9}{'p50 overhead':>15}{'p99 overhead':>15}")
    base50, base99 = percentile(samples[handler], 50), percentile(samples[handler], 99)
    for name, values in samples.items():
        p50, p99 = percentile(values, 50), percentile(values, 99)
        extra = "" if name == handler else f"{(base50 / p50 - 1) * 100:>14.0f}%"
        extra += "" if name == handler else f"{(base99 / p99 - 1) * 100:>14.0f}%"
        print(f"  {name:<34}{p50:>9.3f}{p99:>9.3f}{extra}")
    verdict = "meets" if base99 < target_p99 else "MISSES"
    print(f"  handler p99 {base99:.3f} ms {verdict} the {target_p99:.0f} ms target")


async def bench_http(n: int) -> None:
    async def user(request: web.Request) -> web.Response:
        return web.json_response({"id": 42, "name": "Ada"})

    app = web.Application()
    app.router.add_get("/users/42", user)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server(access_log=None)
    url = f"http://127.0.0.1:{server.port}/users/42"
    handler = HttpHandler()
    await handler.initialize({"allowed_hosts": ["127.0.0.1"]})
    command = envelope("http.get", {"url": url})

    async def raw() -> Any:
        return (await client.get(url)).json()

    async with httpx.AsyncClient() as client:
        samples = await interleaved(
            {"handler http.get": lambda: handler.execute(command), "raw httpx get + json": raw}, n
        )
    await handler.shutdown()
    await server.close()
    report(f"HTTP GET on loopback, {n} calls each", samples, "handler http.get", 100)


async def bench_db(n: int, server: EmbeddedPostgres) -> None:
    handler = DbHandler()
    await handler.initialize({"dsn": server.dsn})
    pool = await asyncpg.create_pool(server.dsn, min_size=1, max_size=5)
    command = envelope("db.query", {"sql": "SELECT 1"})

    async def raw_fetch() -> Any:
        return await pool.fetch("SELECT 1")

    async def raw_cursor() -> Any:
        async with pool.acquire() as connection, connection.transaction():
            return await (await connection.cursor("SELECT 1")).fetch(10_001)

    samples = await interleaved(
        {
            "handler db.query": lambda: handler.execute(command),
            "raw asyncpg pool.fetch": raw_fetch,
            "raw asyncpg cursor in transaction": raw_cursor,
        },
        n,
    )
    await handler.shutdown()
    await pool.close()
    report(f"SELECT 1 on embedded PostgreSQL, {n} calls each", samples, "handler db.query", 50)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2000, help="calls per variant")
    n = parser.parse_args().n
    asyncio.run(bench_http(n))
    server = EmbeddedPostgres.start()
    try:
        asyncio.run(bench_db(n, server))
    finally:
        server.stop()
    print("\noverhead = handler / raw - 1 at the same percentile; target < 20 %")


if __name__ == "__main__":
    main()
