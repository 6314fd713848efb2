"""The http handler's I/O-bound path: calls/s and host CPU per call against a 5 ms service.

Run: ``python tests/benchmarks/bench_http_io.py [-n 5000] [-c 1,16,64] [--rounds 1]
[--only LABEL-PART] [--loop uvloop]`` (about 5 minutes with the defaults).
Prints figures; asserts nothing. The service is a separate process (its CPU is not the
host's): a minimal HTTP/1.1 keep-alive server on 127.0.0.1 that answers every request
with a small JSON body 5 ms after it arrived. For each concurrency ``c``, ``n`` calls by:

- host: the runtime host on memory:// (``max_concurrent_operations: c``, http handler with
  ``max_connections: c``, its policies as wired: timeout only), ``n`` ``http.get`` commands
  appended at once; from the first command appended to the last answer seen;
- host + retry/breaker/limit: the same with a retry policy, a circuit breaker and a rate
  limit configured (none of them ever triggers): what the policy stack costs per call;
- handler: ``HttpHandler.execute`` alone (no bus, no policies), ``c`` callers;
- httpx (handler's client): the handler's own ``httpx.AsyncClient`` (its guarded transport),
  ``client.get`` + read the body, ``c`` callers;
- httpx (default): a plain ``httpx.AsyncClient(limits=c)`` the same way;
- aiohttp (bare): a plain ``aiohttp.ClientSession`` (pool of ``c``), ``session.get`` + read
  the body: the HTTP client's own cost, the floor under every other variant.

"CPU us/call" is this process's CPU time (user + system) over the run divided by ``n``;
"bound" is the calls/s one core could sustain at that CPU cost (1e6 / CPU us/call).
``--profile host`` runs only the host at the first ``-c`` under cProfile and prints the
top functions (or use ``py-spy record -o out.svg -- python ...``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import math
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from onex_stream.bootstrap import build_host, faust_app
from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.infra.event_bus.memory import MemoryBroker, get_broker, reset_brokers
from onex_stream.infra.handlers.http import HttpHandler
from tests.support.contracts import write_contract

COMMAND_TOPIC, EVENT_TOPIC = "onex.bench.http.cmd.v1", "onex.bench.http.evt.v1"
DELAY_S = 0.005
RUNTIME = """\
schema_version: "2.0.0"
runtime:
  name: "bench_http_host"
  max_concurrent_operations: {concurrency}
  event_bus:
    kind: "inmemory"
    config:
      topics: {{input: "{topic}"}}
      partitions: 4
      rebalance_timeout_ms: 60000
  handlers:
    - type: "http"
      config:
        allowed_hosts: ["127.0.0.1"]
        timeout_ms: 5000
        max_connections: {concurrency}
{policies}  nodes:
    - slug: "http_caller"
"""
POLICIES = """\
        retry_policy: {max_retries: 2, base_delay_ms: 10, max_delay_ms: 20}
        circuit_breaker: {failure_threshold: 1000}
        rate_limit_per_second: 1000000
"""
NODE = """\
schema_version: "1.0.0"
name: "http_caller"
node_type: "EFFECT"
io_operations:
  - {type: http, operations: ["http.get"]}
"""


# --- the service (a separate process) ------------------------------------------------


class _Answering(asyncio.Protocol):
    """HTTP/1.1 keep-alive: every request (GET, no body) answered DELAY_S after it came."""

    BODY = b'{"id":42,"name":"Ada"}'
    ANSWER = (
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
        b"Content-Length: %d\r\n\r\n%s" % (len(BODY), BODY)
    )

    def connection_made(self, transport: Any) -> None:
        self.transport, self.pending = transport, b""
        self.loop = asyncio.get_running_loop()

    def data_received(self, data: bytes) -> None:
        self.pending += data
        while (end := self.pending.find(b"\r\n\r\n")) >= 0:
            self.pending = self.pending[end + 4 :]
            self.loop.call_later(DELAY_S, self._answer)

    def _answer(self) -> None:
        if not self.transport.is_closing():
            self.transport.write(self.ANSWER)


def serve() -> None:
    """Serve on a free loopback port (printed on stdout) until stdin closes."""
    try:
        import uvloop  # noqa: PLC0415 -- optional, keeps the service's own CPU low

        uvloop.install()
    except ImportError:
        pass

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_Answering, "127.0.0.1", 0, backlog=1024)
        print(server.sockets[0].getsockname()[1], flush=True)
        await loop.run_in_executor(None, sys.stdin.read)  # the parent went away
        server.close()

    asyncio.run(main())


# --- the variants ---------------------------------------------------------------------


def command(url: str) -> bytes:
    return json.dumps(
        {
            "envelope_id": str(uuid.uuid4()),
            "correlation_id": str(uuid.uuid4()),
            "source_node": "bench",
            "target_node": "http_caller",
            "handler_type": "http",
            "operation": "http.get",
            "payload": {"url": url},
        }
    ).encode()


@contextlib.asynccontextmanager
async def started_host(
    url: str, concurrency: int, policies: str = ""
) -> AsyncIterator[tuple[MemoryBroker, Callable[[list[bytes]], Awaitable[None]]]]:
    """The runtime host on memory://, started, calling ``url``; yields its broker and
    ``answer(commands)``: append them at once, return once each is answered."""
    with tempfile.TemporaryDirectory() as tmp:
        runtime = RUNTIME.format(concurrency=concurrency, topic=COMMAND_TOPIC, policies=policies)
        contract = write_contract(Path(tmp), runtime, {"http_caller": NODE})
        broker_url = f"memory://bench-http-{uuid.uuid4().hex}"
        host = build_host(
            contract,
            env={"ONEX_ENV": "test"},
            bus_overrides={"web_enabled": False, "broker_url": broker_url},
            logs="as-is",
        )
        app, broker = faust_app(host), get_broker(broker_url)

        async def answer(commands: list[bytes]) -> None:
            target = broker.count(EVENT_TOPIC) + len(commands)
            for i, value in enumerate(commands):
                broker.append(COMMAND_TOPIC, value, key=str(i).encode())
            await broker.wait_until(lambda: broker.count(EVENT_TOPIC) >= target, 600)

        await app.start()
        try:
            await broker.wait_until(lambda: bool(app.consumer.assignment()), 30)
            yield broker, answer
        finally:
            await app.stop()
            reset_brokers()


async def host_run(
    url: str, n: int, concurrency: int, policies: str = ""
) -> tuple[float, float, int]:
    """(seconds, CPU seconds, failed answers) for ``n`` http.get through the host."""
    async with started_host(url, concurrency, policies) as (broker, answer):
        commands = [command(url) for _ in range(n)]
        cpu, began = time.process_time(), time.perf_counter()
        await answer(commands)
        elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
        answers = [
            ModelOnexEnvelope.from_json(record.value or b"")
            for p in range(broker.partitions_for(EVENT_TOPIC) or 0)
            for record in broker.records(EVENT_TOPIC, p)
        ]
        failed = [a.error for a in answers if a.error is not None]
        if failed:
            print(f"    host: {len(failed)} failed, first: {failed[0]}", file=sys.stderr)
        return elapsed, cpu, len(failed)


async def callers(call: Callable[[], Awaitable[Any]], n: int, concurrency: int) -> float:
    """Run ``call`` ``n`` times from ``concurrency`` tasks; seconds taken."""
    left = [n]

    async def worker() -> None:
        while left[0] > 0:
            left[0] -= 1
            await call()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - began


async def timed(call: Callable[[], Awaitable[Any]], n: int, c: int) -> tuple[float, float, int]:
    for _ in range(min(200, n)):  # warm up: connections, caches
        await call()
    cpu = time.process_time()
    elapsed = await callers(call, n, c)
    return elapsed, time.process_time() - cpu, 0


async def handler_run(url: str, n: int, concurrency: int) -> tuple[float, float, int]:
    handler = HttpHandler()
    await handler.initialize({"allowed_hosts": ["127.0.0.1"], "max_connections": concurrency})
    envelope = ModelOnexEnvelope.from_json(command(url))
    try:
        return await timed(lambda: handler.execute(envelope), n, concurrency)
    finally:
        await handler.shutdown()


async def client_run(url: str, n: int, concurrency: int) -> tuple[float, float, int]:
    handler = HttpHandler()
    await handler.initialize({"allowed_hosts": ["127.0.0.1"], "max_connections": concurrency})
    client = handler._ready_client()  # the handler's own client and transport

    async def get() -> None:
        (await client.get(url)).read()

    try:
        return await timed(get, n, concurrency)
    finally:
        await handler.shutdown()


async def plain_httpx_run(url: str, n: int, concurrency: int) -> tuple[float, float, int]:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, trust_env=False) as client:

        async def get() -> None:
            (await client.get(url)).read()

        return await timed(get, n, concurrency)


async def bare_aiohttp_run(url: str, n: int, concurrency: int) -> tuple[float, float, int]:
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def get() -> None:
            async with session.get(url) as response:
                await response.read()

        return await timed(get, n, concurrency)


async def host_policies_run(url: str, n: int, concurrency: int) -> tuple[float, float, int]:
    """Only from c=16: below it, a batch's worst case (retries of 5 s timeouts) exceeds the
    poll interval and the contract is refused at load time."""
    if concurrency < 16:
        return math.nan, math.nan, 0
    return await host_run(url, n, concurrency, POLICIES)


VARIANTS: dict[str, Callable[[str, int, int], Awaitable[tuple[float, float, int]]]] = {
    "host (memory://)": host_run,
    "host + retry/breaker/limit": host_policies_run,
    "handler.execute alone": handler_run,
    "httpx, handler's client": client_run,
    "httpx, default transport": plain_httpx_run,
    "aiohttp, bare session": bare_aiohttp_run,
}


def profile_host(url: str, n: int, concurrency: int, top: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    asyncio.run(host_run(url, n, concurrency))
    profiler.disable()
    stats = pstats.Stats(profiler)
    print(f"cProfile, host, n={n}, c={concurrency}: top {top} by own time")
    stats.sort_stats("tottime").print_stats(top)
    print(f"cProfile, host, n={n}, c={concurrency}: top {top} cumulative")
    stats.sort_stats("cumulative").print_stats(top)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=5000, help="calls per run")
    parser.add_argument("-c", default="1,16,64", help="concurrencies, comma-separated")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds (median)")
    parser.add_argument("--only", default="", help="variants whose label contains this")
    parser.add_argument("--profile", choices=["host"], help="cProfile the host at the first -c")
    parser.add_argument("--top", type=int, default=40, help="functions printed by --profile")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve()
        return
    if args.loop == "uvloop":  # what `faust worker -L uvloop` runs on
        import uvloop  # noqa: PLC0415 -- optional

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    concurrencies = [int(c) for c in args.c.split(",")]
    service = subprocess.Popen(
        [sys.executable, __file__, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert service.stdout is not None
        url = f"http://127.0.0.1:{int(service.stdout.readline())}/users/42"
        if args.profile:
            profile_host(url, args.n, concurrencies[0], args.top)
            return
        bench(url, args, concurrencies)
    finally:
        service.kill()
        service.wait()


def bench(url: str, args: argparse.Namespace, concurrencies: list[int]) -> None:
    variants = {k: v for k, v in VARIANTS.items() if args.only.lower() in k.lower()}
    results: dict[tuple[str, int], list[tuple[float, float, int]]] = {}
    for _ in range(args.rounds):
        for c in concurrencies:
            for label, run in variants.items():
                print(f"  running {label} c={c}...", file=sys.stderr, flush=True)
                results.setdefault((label, c), []).append(asyncio.run(run(url, args.n, c)))
    print(f"{args.n} calls per run, service answering after {DELAY_S * 1000:.0f} ms, ", end="")
    print(f"{args.loop} loop, median of {args.rounds} round(s)")
    print(
        f"  {'variant':<28}{'c':>4}{'calls/s':>10}{'CPU us/call':>13}{'bound/s':>10}{'failed':>8}"
    )
    for (label, c), runs in results.items():
        if any(math.isnan(elapsed) for elapsed, _, _ in runs):
            continue
        rate = statistics.median(args.n / elapsed for elapsed, _, _ in runs)
        cpu_us = statistics.median(cpu / args.n * 1e6 for _, cpu, _ in runs)
        failed = max(f for _, _, f in runs)
        print(f"  {label:<28}{c:>4}{rate:>10,.0f}{cpu_us:>13,.0f}{1e6 / cpu_us:>10,.0f}{failed:>8}")


if __name__ == "__main__":
    main()
