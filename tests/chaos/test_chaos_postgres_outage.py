"""Chaos: PostgreSQL stopped for 5 s and restarted under a steady stream of inserts.

A host on memory:// (the fault is in the dependency; broker faults are their own
scenarios) runs a node whose db.execute inserts one row per envelope, keyed by its
envelope id, into an embedded PostgreSQL of the test's own. Envelopes arrive every 20 ms
across four partitions. After ten answered inserts the server is stopped (``pg_ctl stop -m
fast``), left down for 5 s and started again on the same port and data directory; the host
is never restarted. During the outage each insert is retried per the contract's
``retry_policy`` and answered with an error, until the breaker opens and refuses calls
with CIRCUIT_OPEN; after the restart a half-open probe succeeds and inserts succeed again.
The ledger also holds the table against the answers (every ok answer has its row, no row
lacks an ok answer) and ``/health/ready`` during the outage and after the restart.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from onex_stream.core.enums import EnumHandlerType
from onex_stream.infra.observability.health import HostHealth
from tests.chaos.harness import (
    Load,
    breaker_figures,
    circuit_breaker,
    command,
    readiness,
    running_load,
    watched_breaker,
)
from tests.chaos.ledger import FAULT, HEALED, OK, Ledger, Recorder, emit
from tests.chaos.memory_tap import tapped
from tests.chaos.postgres_process import PostgresProcess
from tests.support.contracts import write_contract
from tests.support.deterministic import DeterministicClock, DeterministicIds
from tests.support.hosts import RunningHost, running_host
from tests.support.postgres import EmbeddedPostgres

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(60)]

OUTAGE_SECONDS = 5.0
THRESHOLD, MAX_RETRIES = 3, 2


def runtime(reset_ms: int) -> str:
    """The runtime contract; the db breaker stays open ``reset_ms`` before a probe."""
    return f"""\
schema_version: "2.0.0"
runtime:
  name: "chaos_db_host"
  event_bus:
    config:
      topics: {{input: "onex.chaos.db.cmd.v1"}}
      partitions: 4
  handlers:
    - type: "db"
      config:
        dsn: "${{DATABASE_URL}}"
        pool_size: 2
        timeout_ms: 500
        connect_timeout_ms: 500
        retry_policy:
          max_retries: {MAX_RETRIES}
          backoff_strategy: "exponential"
          base_delay_ms: 20
          max_delay_ms: 50
        circuit_breaker: {{failure_threshold: {THRESHOLD}, reset_timeout_ms: {reset_ms}}}
  nodes:
    - slug: "insert_effect"
"""


RUNTIME = runtime(reset_ms=500)
NODE = """\
schema_version: "1.0.0"
name: "insert_effect"
node_type: "EFFECT"
io_operations:
  - {type: db, operations: ["db.execute"]}
"""
TABLE = "CREATE TABLE chaos_inserts (envelope_id text PRIMARY KEY, n int NOT NULL)"
INSERT = "INSERT INTO chaos_inserts (envelope_id, n) VALUES ($1, $2)"
EXPECTED_ERRORS = {"HANDLER_EXECUTION_ERROR", "HANDLER_TIMEOUT", "CIRCUIT_OPEN"}


def insert(n: int) -> tuple[dict[str, Any], bytes]:
    """The ``n``-th insert command, keyed over four partitions."""
    value = command(n, "insert_effect", "db.execute", {"sql": INSERT, "parameters": []})
    value["payload"]["parameters"] = [value["envelope_id"], n]
    return value, f"key-{n % 4}".encode()


async def stored_ids(server: EmbeddedPostgres) -> set[str]:
    """The envelope ids that have a row."""
    connection = await asyncpg.connect(server.dsn)
    try:
        return {row[0] for row in await connection.fetch("SELECT envelope_id FROM chaos_inserts")}
    finally:
        await connection.close()


async def ready_again(running: RunningHost, recorder: Recorder) -> float:
    """Seconds from the heal until ``/health/ready`` reports ready again (polled every 20 ms)."""
    health = HostHealth(running.host)
    async with asyncio.timeout(10):
        while not (await health.readiness()).ready:  # noqa: ASYNC110 -- polling the host
            await asyncio.sleep(0.02)
    return round(recorder.since(HEALED), 3)


async def outage(
    running: RunningHost, server: EmbeddedPostgres, recorder: Recorder
) -> dict[str, Any]:
    """Inserts through a stop, 5 s down and a restart; figures for the ledger's extra."""
    postgres, figures = PostgresProcess(server), dict[str, Any]()
    load = Load(lambda value, key: running.send(value, key=key), insert, recorder)
    async with running_load(load):
        await recorder.wait_until(lambda: recorder.count(OK) >= 10, 10, "ten inserts before")
        recorder.mark(FAULT)
        await postgres.stop()
        await recorder.wait_until(lambda: recorder.count("CIRCUIT_OPEN") > 0, 10, "breaker open")
        figures["readiness_during_outage"] = await readiness(running.host)
        await recorder.wait_until(
            lambda: recorder.since(FAULT) >= OUTAGE_SECONDS, OUTAGE_SECONDS + 5, "the outage"
        )
        await postgres.start()
        recorder.mark(HEALED)
        figures["ready_again_s"] = await ready_again(running, recorder)
        await recorder.wait_until(
            lambda: recorder.count(OK, after=HEALED) >= 10, 15, "ten inserts after the restart"
        )
        figures["readiness_after_restart"] = await readiness(running.host)
    await recorder.wait_until(recorder.settled, 10, "every insert answered")
    return figures


def attempts_of(recorder: Recorder, code: str) -> dict[str, int]:
    """How many attempts (``error.details.attempts``) the ``code`` answers report."""
    counts = Counter(
        str((a.envelope.error.details or {}).get("attempts", "-"))
        for a in recorder.select(code)
        if a.envelope.error is not None
    )
    return dict(sorted(counts.items()))


async def test_a_postgres_outage_under_load_loses_nothing_and_recovers_without_a_host_restart(
    tmp_path: Path,
    ids: DeterministicIds,
    clock: DeterministicClock,
    own_postgres: EmbeddedPostgres,
) -> None:
    admin = await asyncpg.connect(own_postgres.dsn)
    await admin.execute(TABLE)
    await admin.close()
    contract = write_contract(tmp_path, RUNTIME, {"insert_effect": NODE})
    env = {"ONEX_ENV": "test", "DATABASE_URL": own_postgres.dsn}
    recorder, figures = Recorder(), dict[str, Any]()
    async with running_host(contract, ids=ids, clock=clock, env=env) as running:
        breaker = circuit_breaker(running.host, EnumHandlerType.DB)
        try:
            async with tapped(running, recorder), watched_breaker(breaker, recorder):
                figures = await outage(running, own_postgres, recorder)
        finally:
            ledger = await settle_ledger(recorder, own_postgres, figures)
    assert ledger.lost == 0, ledger.lost_ids
    assert ledger.duplicates == 0, ledger.duplicate_ids
    assert ledger.unexpected_answers == 0
    assert ledger.dead_letters == 0
    assert set(ledger.answered_error) <= EXPECTED_ERRORS, ledger.answered_error
    assert ledger.answered_error.get("CIRCUIT_OPEN", 0) > 0
    assert ledger.breaker_trip_seconds is not None and ledger.breaker_trip_seconds < 10
    assert ledger.recovery_seconds is not None  # new inserts succeed, same host
    failed_calls = attempts_of(recorder, "HANDLER_EXECUTION_ERROR")
    assert set(failed_calls) <= {str(MAX_RETRIES + 1)}, failed_calls  # retried per policy
    assert ledger.extra["ok_answers_without_row"] == 0
    assert ledger.extra["rows_not_answered_ok"] == 0


async def settle_ledger(
    recorder: Recorder,
    server: EmbeddedPostgres,
    figures: dict[str, Any],
) -> Ledger:
    """The scenario's ledger, with what the table holds against what was answered."""
    extra: dict[str, Any] = {"outage_seconds": OUTAGE_SECONDS, **figures}
    ok_ids = {a.request_id for a in recorder.select(OK)}
    try:
        rows = await stored_ids(server)
    except (OSError, asyncpg.PostgresError) as error:  # the server is still down
        extra["rows"] = f"unreadable ({type(error).__name__})"
    else:
        extra["rows"] = len(rows)
        extra["ok_answers_without_row"] = len(ok_ids - rows)
        extra["rows_not_answered_ok"] = len(rows - ok_ids)
    extra["attempts_of_execution_errors"] = attempts_of(recorder, "HANDLER_EXECUTION_ERROR")
    extra["sqlstates"] = dict(
        Counter(
            str((a.envelope.error.details or {}).get("sqlstate"))
            + "/"
            + str((a.envelope.error.details or {}).get("error"))
            for a in recorder.select("HANDLER_EXECUTION_ERROR")
            if a.envelope.error is not None
        )
    )
    extra.update(breaker_figures(recorder))
    ledger = recorder.ledger("postgres-outage", breaker_threshold=THRESHOLD, extra=extra)
    emit(ledger)
    return ledger


async def test_an_open_db_breaker_during_a_postgres_outage_leaves_the_worker_ready(
    tmp_path: Path,
    ids: DeterministicIds,
    clock: DeterministicClock,
    own_postgres: EmbeddedPostgres,
) -> None:
    """While the breaker is open the db backend is not probed for health, and the open
    breaker makes the handler degraded, not the worker unready (it once reported
    ``handler db unhealthy``: the probe ran through the open breaker)."""
    admin = await asyncpg.connect(own_postgres.dsn)
    await admin.execute(TABLE)
    await admin.close()
    contract = write_contract(tmp_path, runtime(reset_ms=60000), {"insert_effect": NODE})
    env = {"ONEX_ENV": "test", "DATABASE_URL": own_postgres.dsn}
    recorder = Recorder()
    async with (
        running_host(contract, ids=ids, clock=clock, env=env) as running,
        tapped(running, recorder),
    ):
        await PostgresProcess(own_postgres).stop()
        for n in range(THRESHOLD + 1):
            value, key = insert(n)
            running.send(value, key=key)
            recorder.note_sent(value["envelope_id"])
        await recorder.wait_until(recorder.settled, 10, "every insert answered")
        if recorder.count("CIRCUIT_OPEN") != 1:
            pytest.fail(f"the breaker did not open: {[a.outcome for a in recorder.answers]}")
        report = await readiness(running.host)
    assert report == {"ready": True, "reasons": [], "degraded": ["db"]}
