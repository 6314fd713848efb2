"""What scraping /metrics costs: host throughput with a scraper versus without.

Run: ``python -m tests.benchmarks.bench_metrics_scrape [-n 10000] [--rounds 3]``.
Prints figures; asserts nothing. Each round runs the in-memory host (web server
on) twice on fresh brokers: once with nothing scraping, once with ``/metrics``
scraped every ``--every`` seconds (default 1 s, fifteen times more often than
Prometheus' usual 15 s) while the envelopes flow. Throughput on this machine
drifts by +-20% between runs, so the cost is also derived precisely: the time one
scrape takes on the event loop, divided by the scrape interval.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
import uuid

import httpx

from onex_stream.bootstrap import build_host, faust_app
from onex_stream.infra.event_bus.memory import get_broker, reset_brokers
from tests.benchmarks.bench_inmemory_host import COMMAND_TOPIC, DEMO, EVENT_TOPIC, command
from tests.support.tcp_proxy import free_port


async def run(n: int, scrape: bool, every: float) -> tuple[float, int, float]:
    """Envelopes/s, scrapes made meanwhile, and the mean seconds one scrape takes."""
    url, port = f"memory://scrape-{uuid.uuid4().hex}", free_port()
    overrides = {"broker_url": url, "web_enabled": True, "web_port": port}
    host = build_host(DEMO, env={"ONEX_ENV": "test"}, bus_overrides=overrides, logs="as-is")
    app, broker = faust_app(host), get_broker(url)
    records = [command(i) for i in range(n)]
    await app.start()
    await broker.wait_until(lambda: bool(app.consumer.assignment()), 30)
    scrapes = 0
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:

        async def scraper() -> None:
            nonlocal scrapes
            while True:
                (await client.get("/metrics")).raise_for_status()
                scrapes += 1
                await asyncio.sleep(every)

        task = asyncio.ensure_future(scraper()) if scrape else None
        started = time.perf_counter()
        for i, value in enumerate(records):
            broker.append(COMMAND_TOPIC, value, key=str(i).encode())
        await broker.wait_until(lambda: broker.count(EVENT_TOPIC) >= n, 300)
        elapsed = time.perf_counter() - started
        if task is not None:
            task.cancel()
        scrape_seconds = await time_scrapes(client) if scrape else 0.0
    await app.stop()
    reset_brokers()
    return n / elapsed, scrapes, scrape_seconds


async def time_scrapes(client: httpx.AsyncClient, count: int = 200) -> float:
    """Mean seconds per ``/metrics`` request (rendering, HTTP and loop hops)."""
    started = time.perf_counter()
    for _ in range(count):
        (await client.get("/metrics")).raise_for_status()
    return (time.perf_counter() - started) / count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--every", type=float, default=1.0, help="seconds between scrapes")
    args = parser.parse_args()
    off, on, scrapes, per_scrape = [], [], [], []
    for _ in range(args.rounds):
        print("  running without scraping...", file=sys.stderr, flush=True)
        off.append(asyncio.run(run(args.n, scrape=False, every=args.every))[0])
        print("  running with scraping...", file=sys.stderr, flush=True)
        rate, count, seconds = asyncio.run(run(args.n, scrape=True, every=args.every))
        on.append(rate)
        scrapes.append(count)
        per_scrape.append(seconds)
    quiet, scraped = statistics.median(off), statistics.median(on)
    print(f"memory:// host, {args.n} envelopes, median of {args.rounds} interleaved rounds")
    print(f"  no scraping                  {quiet:10,.0f} envelopes/s  {[round(r) for r in off]}")
    print(
        f"  /metrics every {args.every:g} s          {scraped:10,.0f} envelopes/s  "
        f"{[round(r) for r in on]}  ({scrapes} scrapes)"
    )
    print(f"  throughput difference        {(1 - scraped / quiet) * 100:9.1f} %  (noise: +-20%)")
    one = statistics.median(per_scrape)
    print(f"  one scrape takes             {one * 1000:9.2f} ms of the event loop")
    for every in (15.0, 1.0, 0.1):
        print(f"  loop time spent scraping every {every:g} s: {one / every * 100:6.2f} %")


if __name__ == "__main__":
    main()
