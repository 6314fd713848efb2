"""Where an http.get's CPU goes: the http handler's client stack, layer by layer.

Run: ``python -m tests.benchmarks.bench_http_layers [--slice 500] [--rounds 10] [-c 64]``
(about 1 minute). Prints figures; asserts nothing. Against bench_http_io's service (a
separate process answering after 5 ms), one event loop holds every layer at once, each
on its own connection pool, from the bare HTTP client up to the handler:

- aiohttp, bare session: ``session.get`` + read, the floor;
- aiohttp, guarded pool: the same on the handler's ``GuardedConnector`` (the SSRF guard);
- guarded transport: ``GuardedTransport.handle_async_request`` with an ``httpx.Request``,
  the ``httpx.Response`` read and closed (httpx's request and response models);
- httpx client.send: the handler's own ``httpx.AsyncClient.send`` (stream) + read;
- httpx client.get: the same through ``client.get`` (the client builds the request);
- handler.execute: ``HttpHandler.execute`` (payload, guard checks, redirect loop, answer);
- host: the runtime host on memory:// (bench_http_io's contract: an EFFECT node, the http
  handler, ``max_concurrent_operations: c``), a slice's commands appended at once and
  every answer awaited: what the host adds to the handler per ``http.get``.

Each round runs one slice of ``--slice`` calls per layer (``c`` callers), in alternating
order; a slice's CPU per call is this process's CPU over the slice. Printed: the median
per layer, its median ratio to the bare session in the same round, and the median of
what it adds per call to the layer above it in the list. Slices of one loop see the same
machine noise, so these ratios hold still where separate runs swing up to 2x.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.infra.handlers.http import HttpHandler
from tests.benchmarks.bench_http_io import DELAY_S, callers, command, started_host

WARM_UP = 300  # calls per layer before the first slice
Slice = Callable[[int], Awaitable[object]]  # run this many calls, return when all are done


@contextlib.asynccontextmanager
async def layers(url: str, concurrency: int, host_calls: int) -> AsyncIterator[dict[str, Slice]]:
    """Each layer's slice runner, on pools of its own; closed on exit. The host's
    ``host_calls`` commands are made beforehand (each envelope_id once), not in a slice."""
    async with contextlib.AsyncExitStack() as stack:
        handlers = [HttpHandler() for _ in range(5)]
        for handler in handlers:
            config = {"allowed_hosts": ["127.0.0.1"], "max_connections": concurrency}
            await handler.initialize(config)
            stack.push_async_callback(handler.shutdown)
        bare = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency))
        stack.push_async_callback(bare.close)
        transport = handlers[1]._ready_client()._transport
        guarded = handlers[0]._ready_client()._transport._ready_session()  # type: ignore[attr-defined]
        send_client, get_client = handlers[2]._ready_client(), handlers[3]._ready_client()
        envelope = ModelOnexEnvelope.from_json(command(url))
        _, host_answer = await stack.enter_async_context(started_host(url, concurrency))
        commands = [command(url) for _ in range(host_calls)]

        async def host_slice(n: int) -> None:
            await host_answer([commands.pop() for _ in range(n)])

        async def on_session(session: aiohttp.ClientSession) -> None:
            async with session.get(url) as response:
                await response.read()

        async def transport_call() -> None:
            await read(await transport.handle_async_request(httpx.Request("GET", url)))

        async def client_send() -> None:
            await read(await send_client.send(httpx.Request("GET", url), stream=True))

        async def client_get() -> None:
            (await get_client.get(url)).read()

        async def execute() -> None:
            await handlers[4].execute(envelope)

        calls: dict[str, Callable[[], Awaitable[None]]] = {
            "aiohttp, bare session": lambda: on_session(bare),
            "aiohttp, guarded pool": lambda: on_session(guarded),
            "guarded transport": transport_call,
            "httpx client.send": client_send,
            "httpx client.get": client_get,
            "handler.execute": execute,
        }
        slices: dict[str, Slice] = {
            label: functools.partial(callers, call, concurrency=concurrency)
            for label, call in calls.items()
        }
        yield {**slices, "host (memory://)": host_slice}


async def read(response: httpx.Response) -> None:
    await response.aread()
    await response.aclose()


async def measure(url: str, slice_calls: int, rounds: int, concurrency: int) -> None:
    async with layers(url, concurrency, WARM_UP + rounds * slice_calls) as slices:
        for run in slices.values():  # warm up: connections, caches
            await run(WARM_UP)
        cpu: dict[str, list[float]] = {label: [] for label in slices}
        for round_ in range(rounds):
            for label in list(slices)[:: 1 if round_ % 2 == 0 else -1]:
                began = time.process_time()
                await slices[label](slice_calls)
                cpu[label].append((time.process_time() - began) / slice_calls * 1e6)
    report(cpu, slice_calls, rounds, concurrency)


def report(cpu: dict[str, list[float]], slice_calls: int, rounds: int, concurrency: int) -> None:
    print(
        f"http client stack, layer by layer: {rounds} rounds of {slice_calls} calls per layer, "
        f"c={concurrency}, service answering after {DELAY_S * 1000:.0f} ms"
    )
    print(f"  {'layer':<24}{'CPU us/call':>13}{'x bare':>8}{'adds us':>9}")
    labels = list(cpu)
    bare = cpu[labels[0]]
    for below, label in zip([None, *labels], labels, strict=False):
        ratio = statistics.median(x / y for x, y in zip(cpu[label], bare, strict=True))
        adds = (
            "" if below is None else f"{statistics.median(_diffs(cpu[label], cpu[below])):>9,.0f}"
        )
        print(f"  {label:<24}{statistics.median(cpu[label]):>13,.0f}{ratio:>8.2f}{adds:>9}")


def _diffs(upper: list[float], lower: list[float]) -> list[float]:
    return [u - low for u, low in zip(upper, lower, strict=True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slice", type=int, default=500, help="calls per layer per round")
    parser.add_argument("--rounds", type=int, default=10, help="alternating rounds (median)")
    parser.add_argument("-c", type=int, default=64, help="concurrent callers per layer")
    args = parser.parse_args()
    service = subprocess.Popen(
        [sys.executable, "-m", "tests.benchmarks.bench_http_io", "--serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert service.stdout is not None
        url = f"http://127.0.0.1:{int(service.stdout.readline())}/users/42"
        asyncio.run(measure(url, args.slice, args.rounds, args.c))
    finally:
        service.kill()
        service.wait()


if __name__ == "__main__":
    main()
