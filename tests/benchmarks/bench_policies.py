"""Overhead of the four handler policies per call, nothing failing, beside the bare handler.

Run: ``python tests/benchmarks/bench_policies.py [-n N]``. Prints figures; asserts nothing.
The handler is ``LocalHandler`` (``local.echo``: no I/O), so the difference is the policies'
own cost: rate limit (a bucket that never empties), circuit breaker (closed), retry (no
retry needed), timeout. Runs alternate bare and wrapped rounds to share the machine's noise.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path
from uuid import uuid4

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from onex_stream.core.contracts.handler_binding import ModelHandlerBindingConfig
from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.handlers.local import LocalHandler
from onex_stream.core.ports import HandlerPort
from onex_stream.infra.handlers.policies import with_policies
from onex_stream.infra.observability.metrics import HostMetrics

ALL_POLICIES = {
    "timeout_ms": 30000,
    "retry_policy": {"max_retries": 3},
    "circuit_breaker": {"failure_threshold": 5},
    "rate_limit_per_second": 1e9,  # never waits: the bucket's bookkeeping is measured
}


async def per_call_us(handler: HandlerPort, envelope: ModelOnexEnvelope, calls: int) -> float:
    """Mean µs per ``execute`` over ``calls`` sequential calls."""
    started = time.perf_counter()
    for _ in range(calls):
        await handler.execute(envelope)
    return (time.perf_counter() - started) / calls * 1e6


async def main(calls: int, rounds: int) -> None:
    envelope = ModelOnexEnvelope(
        envelope_id=uuid4(),
        source_node="bench",
        handler_type=EnumHandlerType.LOCAL,
        operation="local.echo",
        payload={"n": 1},
    )
    bare = LocalHandler()
    binding = ModelHandlerBindingConfig.model_validate({"type": "local", "config": ALL_POLICIES})
    wrapped = with_policies(LocalHandler(), binding, HostMetrics())
    for handler in (bare, wrapped):
        await handler.initialize({})
        await per_call_us(handler, envelope, 1000)  # warm up
    bare_us, wrapped_us = [], []
    for _ in range(rounds):
        bare_us.append(await per_call_us(bare, envelope, calls))
        wrapped_us.append(await per_call_us(wrapped, envelope, calls))
    bare_median, wrapped_median = statistics.median(bare_us), statistics.median(wrapped_us)
    print(f"calls per round: {calls}, rounds: {rounds} (medians)")
    print(f"bare LocalHandler.execute:        {bare_median:8.2f} µs/call")
    print(f"with all four policies:           {wrapped_median:8.2f} µs/call")
    print(f"policy overhead:                  {wrapped_median - bare_median:8.2f} µs/call")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=20000, help="calls per round")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    asyncio.run(main(args.n, args.rounds))
