"""Chaos: an HTTP dependency failing continuously, beside traffic that must keep flowing.

A host on memory:// runs two nodes: ``http_caller`` (http.get to a real local server the
test scripts) and ``echo_node`` (local.echo, another handler). Commands alternate between
them every 20 ms. Once both answer, the server starts answering 503 to every call: each
call is retried per the contract, answered with the 503, and after ``failure_threshold``
such calls the http breaker opens; from then on http calls are answered CIRCUIT_OPEN
without reaching the server while echo_node keeps answering and ``/health/ready`` stays
ready with ``http`` listed as degraded. Then the server heals; after ``reset_timeout_ms``
the half-open probe succeeds and http answers are ok again.

The breaker belongs to the handler (one per handler type), not to a remote host: the second
scenario shows what that means for two nodes that share the http handler but call
different servers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from onex_stream.core.enums import EnumHandlerType
from onex_stream.core.envelope import ModelOnexEnvelope
from tests.chaos.harness import (
    Dependency,
    Load,
    breaker_figures,
    circuit_breaker,
    command,
    dependency,
    readiness,
    running_load,
    watched_breaker,
)
from tests.chaos.ledger import BREAKER_OPEN, FAULT, HEALED, OK, Recorder, emit
from tests.chaos.memory_tap import tapped
from tests.support.contracts import write_contract
from tests.support.deterministic import DeterministicClock, DeterministicIds
from tests.support.hosts import RunningHost, running_host

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(60)]

THRESHOLD, MAX_RETRIES, RESET_TIMEOUT_MS = 3, 1, 3000
RUNTIME = f"""\
schema_version: "2.0.0"
runtime:
  name: "chaos_http_host"
  event_bus:
    config:
      topics: {{input: "onex.chaos.http.cmd.v1"}}
      partitions: 4
  handlers:
    - type: "local"
    - type: "http"
      config:
        allowed_hosts: ["127.0.0.1"]
        timeout_ms: 500
        retry_policy: {{max_retries: {MAX_RETRIES}, base_delay_ms: 5, max_delay_ms: 10}}
        circuit_breaker:
          failure_threshold: {THRESHOLD}
          reset_timeout_ms: {RESET_TIMEOUT_MS}
  nodes:
    - slug: "http_caller"
    - slug: "healthy_caller"
    - slug: "echo_node"
"""
HTTP_NODE = """\
schema_version: "1.0.0"
name: "{name}"
node_type: "EFFECT"
io_operations:
  - {{type: http, operations: ["http.get"]}}
"""
ECHO_NODE = """\
schema_version: "1.0.0"
name: "echo_node"
node_type: "COMPUTE"
io_operations:
  - {type: local, operations: ["local.echo"]}
"""
NODES = {
    "http_caller": HTTP_NODE.format(name="http_caller"),
    "healthy_caller": HTTP_NODE.format(name="healthy_caller"),
    "echo_node": ECHO_NODE,
}


def node(name: str) -> Callable[[ModelOnexEnvelope], bool]:
    """Selects the answers of commands sent to node ``name``."""
    return lambda envelope: envelope.metadata.get("original_target_node") == name


A, B, C = node("http_caller"), node("echo_node"), node("healthy_caller")


def to_failing(server: Dependency) -> Callable[[int], tuple[dict[str, Any], bytes]]:
    """Commands to http_caller: GET /call/<n> on the scripted server."""
    return lambda n: (
        command(n, "http_caller", "http.get", {"url": f"{server.url}/call/{n}"}),
        b"a",
    )


def to_healthy(server: Dependency) -> Callable[[int], tuple[dict[str, Any], bytes]]:
    """Commands to healthy_caller: GET /healthy/<n> (always 200), through the same handler."""
    return lambda n: (
        command(n, "healthy_caller", "http.get", {"url": f"{server.url}/healthy/{n}"}),
        b"a",
    )


def to_echo(n: int) -> tuple[dict[str, Any], bytes]:
    """Commands to echo_node (the local handler)."""
    return command(n, "echo_node", "local.echo", {"n": n}), b"b"


def alternating(
    even: Callable[[int], tuple[dict[str, Any], bytes]],
    odd: Callable[[int], tuple[dict[str, Any], bytes]],
) -> Callable[[int], tuple[dict[str, Any], bytes]]:
    return lambda n: even(n) if n % 2 == 0 else odd(n)


@asynccontextmanager
async def scenario(
    tmp_path: Path, ids: DeterministicIds, clock: DeterministicClock, recorder: Recorder
) -> AsyncIterator[tuple[RunningHost, Dependency]]:
    """The host, its tap and breaker watch, and the scripted server."""
    contract = write_contract(tmp_path, RUNTIME, NODES)
    async with dependency() as server, running_host(contract, ids=ids, clock=clock) as running:
        breaker = circuit_breaker(running.host, EnumHandlerType.HTTP)
        async with tapped(running, recorder), watched_breaker(breaker, recorder):
            yield running, server


def calls_while_open(server: Dependency, recorder: Recorder) -> int | None:
    """Calls the server received while the breaker was certainly open: from its opening to
    the heal, and never later than ``reset_timeout_ms`` after it (when a probe may pass).
    The opening is sampled up to 5 ms late; the window ends 50 ms early to cover that."""
    if BREAKER_OPEN not in recorder.marks:
        return None
    opened = recorder.marks[BREAKER_OPEN]
    end = min(recorder.marks.get(HEALED, float("inf")), opened + RESET_TIMEOUT_MS / 1000 - 0.05)
    return sum(1 for at, path, _ in server.arrivals if opened <= at < end and "/call/" in path)


async def test_a_failing_http_dependency_opens_the_breaker_while_other_nodes_keep_flowing(
    tmp_path: Path, ids: DeterministicIds, clock: DeterministicClock
) -> None:
    recorder, extra = Recorder(), dict[str, Any]()
    async with scenario(tmp_path, ids, clock, recorder) as (running, server):
        load = Load(
            lambda v, k: running.send(v, key=k), alternating(to_failing(server), to_echo), recorder
        )
        try:
            async with running_load(load):
                await recorder.wait_until(
                    lambda: recorder.count(OK, A) >= 5 and recorder.count(OK, B) >= 5,
                    10,
                    "both nodes answering",
                )
                server.status = 503
                recorder.mark(FAULT)
                await recorder.wait_until(
                    lambda: recorder.count("CIRCUIT_OPEN", A) > 0, 10, "the breaker open"
                )
                recorder.mark("refusing")
                extra["readiness_while_open"] = await readiness(running.host)
                await recorder.wait_until(
                    lambda: (
                        recorder.count("CIRCUIT_OPEN", A, after="refusing") >= 5
                        and recorder.count(OK, B, after="refusing") >= 5
                    ),
                    10,
                    "refusals beside echo answers",
                )
                server.status = 200
                recorder.mark(HEALED)
                await recorder.wait_until(
                    lambda: recorder.count(OK, A, after=HEALED) >= 5, 15, "http answers ok again"
                )
                extra["readiness_after_recovery"] = await readiness(running.host)
            await recorder.wait_until(recorder.settled, 10, "every command answered")
        finally:
            opened = recorder.marks.get(BREAKER_OPEN, float("inf"))
            extra |= {
                "failure_threshold": THRESHOLD,
                "reset_timeout_ms": RESET_TIMEOUT_MS,
                "server_calls_while_open": calls_while_open(server, recorder),
                "server_503s_before_open": sum(
                    1 for at, _, s in server.arrivals if s == 503 and at < opened
                ),
                "server_503s_in_all": sum(1 for _, _, s in server.arrivals if s == 503),
                "echo_ok_while_open": recorder.count(OK, B, after="refusing")
                - recorder.count(OK, B, after=HEALED),
                "echo_not_ok": sum(1 for a in recorder.select(None, B) if a.outcome != OK),
                **breaker_figures(recorder),
            }
            ledger = recorder.ledger(
                "http-failing", breaker_threshold=THRESHOLD, dependency=A, extra=extra
            )
            emit(ledger)
    assert ledger.answered_once, (ledger.lost_ids, ledger.duplicate_ids)
    assert ledger.dead_letters == 0
    assert ledger.breaker_trip_seconds is not None and ledger.breaker_trip_seconds < 10
    assert extra["server_calls_while_open"] == 0
    # the breaker opened after ``failure_threshold`` calls, each tried 1 + max_retries times
    assert extra["server_503s_before_open"] == THRESHOLD * (MAX_RETRIES + 1)
    assert set(ledger.answered_error) <= {"HTTP_503", "CIRCUIT_OPEN"}, ledger.answered_error
    assert extra["readiness_while_open"] == {"ready": True, "reasons": [], "degraded": ["http"]}
    assert extra["echo_not_ok"] == 0 and extra["echo_ok_while_open"] >= 5
    assert ledger.recovery_seconds is not None
    assert extra["readiness_after_recovery"] == {"ready": True, "reasons": [], "degraded": []}


async def test_nodes_sharing_the_http_handler_share_its_breaker_whichever_host_fails(
    tmp_path: Path, ids: DeterministicIds, clock: DeterministicClock
) -> None:
    """A finding, pinned as it stands: the breaker is per handler type, so two nodes that
    call different servers through the one http handler share it.

    1. Their calls interleaved (one partition: strictly alternating), the healthy node's
       successes reset the failure count: the breaker never opens, and the failing server
       gets every call of the other node, retries included.
    2. Once the failing node's calls come in a row, the breaker opens and the healthy
       node's calls are answered CIRCUIT_OPEN too, though its server is fine.
    """
    recorder, extra = Recorder(), dict[str, Any]()
    async with scenario(tmp_path, ids, clock, recorder) as (running, server):
        failing, healthy = to_failing(server), to_healthy(server)
        load = Load(lambda v, k: running.send(v, key=k), alternating(failing, healthy), recorder)
        try:
            async with running_load(load):
                await recorder.wait_until(lambda: recorder.count(OK, C) >= 5, 10, "answering")
                server.status = 503
                recorder.mark(FAULT)
                await recorder.wait_until(
                    lambda: recorder.count("HTTP_503", A) >= 4 * THRESHOLD, 10, "503 answers"
                )
                recorder.mark("failing_only")
                extra["interleaved_503_answers"] = recorder.count("HTTP_503", A)
                extra["interleaved_circuit_open"] = recorder.count("CIRCUIT_OPEN")
                load.make = failing
                await recorder.wait_until(
                    lambda: recorder.count("CIRCUIT_OPEN", A) > 0, 10, "the breaker open"
                )
                load.make = healthy
                recorder.mark("healthy_only")
                await recorder.wait_until(
                    lambda: recorder.count("CIRCUIT_OPEN", C, after="healthy_only") >= 5,
                    10,
                    "healthy calls refused",
                )
            await recorder.wait_until(recorder.settled, 10, "every command answered")
        finally:
            before = recorder.marks.get("failing_only", float("inf"))
            fault = recorder.marks.get(FAULT, float("inf"))
            extra |= {
                "failing_server_calls_interleaved": sum(
                    1 for at, p, _ in server.arrivals if fault <= at < before and "/call/" in p
                ),
                "healthy_node_circuit_open": recorder.count("CIRCUIT_OPEN", C),
                **breaker_figures(recorder),
            }
            # no trip figure: the threshold is reached long before the breaker opens here
            ledger = recorder.ledger("http-shared-handler", dependency=A, extra=extra)
            emit(ledger)
    assert ledger.answered_once, (ledger.lost_ids, ledger.duplicate_ids)
    # 1. healthy calls in between keep the breaker closed: every failing call reaches the server
    assert extra["interleaved_circuit_open"] == 0
    assert extra["failing_server_calls_interleaved"] >= extra["interleaved_503_answers"] * (
        MAX_RETRIES + 1
    )
    # 2. once open, the healthy node is refused as well
    assert extra["healthy_node_circuit_open"] >= 5
