"""Chaos: a slow HTTP dependency, answering long after the handler's ``timeout_ms``.

A host on memory:// (four envelopes at once, ``max_concurrent_operations: 4``) sends
http.get calls to a real local server; after four answered calls, the server starts
answering only after 10 s (a hundred times ``timeout_ms``; released at teardown).
Every attempt times out, the retry policy tries each call ``max_retries`` more times, and
every envelope is answered HANDLER_TIMEOUT with ``details.attempts``; the whole sequence of
one envelope stays within the worst case the contract's load-time budget check accepted
(``onex_stream/core/contracts/budgets.py``). Then the server answers at once again and so
do the calls.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from math import inf
from pathlib import Path
from typing import Any

import pytest

from onex_stream.core.contracts.budgets import budget
from tests.chaos.harness import Load, command, command_number, dependency, running_load
from tests.chaos.ledger import FAULT, HEALED, OK, Recorder, emit
from tests.chaos.memory_tap import tapped
from tests.support.contracts import write_contract
from tests.support.deterministic import DeterministicClock, DeterministicIds
from tests.support.hosts import RunningHost, running_host

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(60)]

TIMEOUT_MS, MAX_RETRIES, SERVER_DELAY_MS = 100, 2, 10_000
FAST_CALLS, SLOW_CALLS = 4, 12
RUNTIME = f"""\
schema_version: "2.0.0"
runtime:
  name: "chaos_slow_host"
  max_concurrent_operations: 4
  event_bus:
    config:
      topics: {{input: "onex.chaos.slow.cmd.v1"}}
      partitions: 4
  handlers:
    - type: "http"
      config:
        allowed_hosts: ["127.0.0.1"]
        timeout_ms: {TIMEOUT_MS}
        retry_policy:
          max_retries: {MAX_RETRIES}
          backoff_strategy: "exponential"
          base_delay_ms: 10
          max_delay_ms: 40
  nodes:
    - slug: "http_caller"
"""
NODE = """\
schema_version: "1.0.0"
name: "http_caller"
node_type: "EFFECT"
io_operations:
  - {type: http, operations: ["http.get"]}
"""


async def test_a_slow_dependency_times_out_after_every_attempt_within_the_budget_and_loses_nothing(
    tmp_path: Path, ids: DeterministicIds, clock: DeterministicClock
) -> None:
    contract = write_contract(tmp_path, RUNTIME, {"http_caller": NODE})
    recorder, extra = Recorder(), dict[str, Any]()
    async with dependency() as server, running_host(contract, ids=ids, clock=clock) as running:
        runtime = running.host.definition.contract.runtime
        plan = budget(runtime, runtime.handlers[0])
        assert plan is not None and plan.problem() is None  # what the loader checked

        def call(n: int) -> tuple[dict[str, Any], bytes]:
            url = f"{server.url}/call/{n}"
            return command(n, "http_caller", "http.get", {"url": url}), f"key-{n % 4}".encode()

        send, latency = (lambda v, k: running.send(v, key=k)), Latency(running)
        slow: Window | None = None
        try:
            async with tapped(running, recorder):
                await calls(Load(send, call, recorder), FAST_CALLS, recorder, "warm-up")
                server.delay = SERVER_DELAY_MS / 1000
                recorder.mark(FAULT)
                before = latency.snapshot()
                await calls(Load(send, call, recorder, start=FAST_CALLS), SLOW_CALLS, recorder)
                slow = latency.since(before)
                server.delay = 0.0
                recorder.mark(HEALED)
                start = FAST_CALLS + SLOW_CALLS
                await calls(Load(send, call, recorder, start=start), FAST_CALLS, recorder, "after")
        finally:
            slow_ids = range(FAST_CALLS, FAST_CALLS + SLOW_CALLS)
            sequences = attempt_spans_ms(server.arrivals, slow_ids)
            to_answer = first_attempt_to_answer_ms(server.arrivals, recorder)
            per_envelope = server_calls(server.arrivals, slow_ids)
            attempts = Counter(
                str((a.envelope.error.details or {}).get("attempts"))
                for a in recorder.select("HANDLER_TIMEOUT")
                if a.envelope.error is not None
            )
            extra |= {
                "timeout_ms": TIMEOUT_MS,
                "server_delay_ms": SERVER_DELAY_MS,
                "attempts_per_timeout_answer": dict(attempts),
                "server_calls_per_slow_envelope": dict(Counter(map(str, per_envelope.values()))),
                "budget_envelope_ms": plan.envelope_ms if plan else None,
                "rebalance_timeout_ms": plan.rebalance_timeout_ms if plan else None,
                "max_retry_sequence_ms": max(sequences.values(), default=None),
                "max_first_attempt_to_answer_ms": max(to_answer.values(), default=None),
                "handler_latency_mean_ms": slow.mean_ms if slow else None,
                "handler_latency_max_bucket_s": slow.max_bucket if slow else None,
            }
            ledger = recorder.ledger("slow-dependency", extra=extra)
            emit(ledger)
    assert ledger.answered_once, (ledger.lost_ids, ledger.duplicate_ids)
    assert ledger.dead_letters == 0
    assert ledger.answered_error == {"HANDLER_TIMEOUT": SLOW_CALLS}
    assert ledger.answered_ok == 2 * FAST_CALLS
    assert extra["attempts_per_timeout_answer"] == {str(MAX_RETRIES + 1): SLOW_CALLS}
    # an attempt may time out before its request reaches the server (connection set-up)
    assert all(1 <= n <= MAX_RETRIES + 1 for n in per_envelope.values()), per_envelope
    last_errors = {
        (a.envelope.error.details or {}).get("last_error", {}).get("code")
        for a in recorder.select("HANDLER_TIMEOUT")
        if a.envelope.error is not None
    }
    assert last_errors == {"HANDLER_TIMEOUT"}
    # within budget: no call waited for the slow answers, and every retry sequence ended
    # inside the rebalance timeout the load-time check holds the worst case to (the figures
    # against the computed worst case, budget_envelope_ms, are in the ledger)
    assert slow is not None and slow.max_bucket < SERVER_DELAY_MS / 1000
    assert max(sequences.values()) < min(SERVER_DELAY_MS, plan.rebalance_timeout_ms)
    assert ledger.recovery_seconds is not None


async def calls(load: Load, count: int, recorder: Recorder, what: str = "slow calls") -> None:
    """Send ``count`` commands with ``load`` and wait until every one is answered."""
    async with running_load(load):
        await recorder.wait_until(lambda: load.sent >= count, 10, f"{what}: sent")
    await recorder.wait_until(recorder.settled, 15, f"{what}: answered")


@dataclass(frozen=True)
class Window:
    """http.get handler latencies (``onex_handler_latency_seconds``) over a time window."""

    count: float
    total: float
    buckets: dict[float, float]

    @property
    def mean_ms(self) -> float:
        """Mean latency of a call, retries included (ms)."""
        return round(self.total / self.count * 1000, 1) if self.count else 0.0

    @property
    def max_bucket(self) -> float:
        """The smallest histogram bound every call of the window fits under (s)."""
        return min((bound for bound, n in self.buckets.items() if n >= self.count), default=inf)


@dataclass
class Latency:
    """Reads the host's http.get latency histogram."""

    running: RunningHost

    def snapshot(self) -> Window:
        registry = self.running.host.metrics.registry
        labels = {"handler_type": "http", "operation": "http.get"}

        def value(name: str, **more: str) -> float:
            return registry.get_sample_value(name, {**labels, **more}) or 0.0

        bounds = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
        return Window(
            value("onex_handler_latency_seconds_count"),
            value("onex_handler_latency_seconds_sum"),
            {b: value("onex_handler_latency_seconds_bucket", le=str(b)) for b in bounds},
        )

    def since(self, before: Window) -> Window:
        """The calls made since ``before``."""
        now = self.snapshot()
        buckets = {b: n - before.buckets[b] for b, n in now.buckets.items()}
        return Window(now.count - before.count, now.total - before.total, buckets)


def server_calls(arrivals: list[tuple[float, str, int]], numbers: range) -> dict[int, int]:
    """Requests the server received per command number (``/call/<n>``) in ``numbers``."""
    counts = Counter(int(path.rsplit("/", 1)[1]) for _, path, _ in arrivals)
    return {n: counts.get(n, 0) for n in numbers}


def attempt_spans_ms(arrivals: list[tuple[float, str, int]], numbers: range) -> dict[int, int]:
    """Per command: ms from its first request reaching the server to its last attempt's
    deadline (last arrival + ``timeout_ms``): the retry sequence as the server saw it."""
    seen: dict[int, list[float]] = {}
    for at, path, _ in arrivals:
        seen.setdefault(int(path.rsplit("/", 1)[1]), []).append(at)
    return {n: round((seen[n][-1] - seen[n][0]) * 1000) + TIMEOUT_MS for n in numbers if n in seen}


def first_attempt_to_answer_ms(
    arrivals: list[tuple[float, str, int]], recorder: Recorder
) -> dict[int, int]:
    """Per timed-out command: ms from its first request reaching the server to its answer
    arriving on the event topic (the retry sequence plus when the answer is published)."""
    first: dict[int, float] = {}
    for at, path, _ in arrivals:
        first.setdefault(int(path.rsplit("/", 1)[1]), at)
    spans = {}
    for answer in recorder.select("HANDLER_TIMEOUT"):
        n = command_number(answer.request_id or "")
        if n in first:
            spans[n] = round((answer.at - first[n]) * 1000)
    return spans


HELD_NODE_RUNTIME = """\
schema_version: "2.0.0"
runtime:
  name: "chaos_batch_host"
  event_bus:
    config:
      topics: {input: "onex.chaos.batch.cmd.v1"}
      partitions: 1
  handlers:
    - type: "http"
      config: {allowed_hosts: ["127.0.0.1"], timeout_ms: 5000}
  nodes:
    - slug: "http_caller"
"""


async def test_an_answer_is_published_without_waiting_for_a_slower_envelope_of_its_batch(
    tmp_path: Path, ids: DeterministicIds, clock: DeterministicClock
) -> None:
    """Found by the slow-dependency ledger (``max_first_attempt_to_answer_ms`` ~1 s for a
    ~340 ms retry sequence). Two commands in one batch (one partition, sent together): a
    fast GET, then a GET the server holds. The fast one is answered by the handler at once;
    its answer should be on the event topic while the slow one is still held."""
    contract = write_contract(tmp_path, HELD_NODE_RUNTIME, {"http_caller": NODE})
    recorder = Recorder()
    async with (
        dependency() as server,
        running_host(contract, ids=ids, clock=clock) as running,
        tapped(running, recorder),
    ):
        server.delay = 30.0  # held until released
        for n, path in ((0, "healthy"), (1, "call")):
            value = command(n, "http_caller", "http.get", {"url": f"{server.url}/{path}/{n}"})
            running.send(value, key=b"one")
            recorder.note_sent(value["envelope_id"])
        await recorder.wait_until(lambda: server.calls() == 1, 10, "the slow call at the server")
        try:
            await recorder.wait_until(lambda: recorder.count(OK) == 1, 1, "the fast answer")
        except TimeoutError:
            fast_answered_while_held = False
        else:
            fast_answered_while_held = True
        server.release()
        await recorder.wait_until(recorder.settled, 10, "both answered")
    assert fast_answered_while_held
