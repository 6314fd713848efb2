"""Effectively-once scenarios on a real broker and PostgreSQL: db inserts, SIGKILLed workers.

Shared by ``tests/integration/kafka/test_kafka_effectively_once.py`` (small runs with
assertions) and ``tests/benchmarks/bench_effectively_once.py`` (full runs, ledgers).

Every command inserts one row keyed by its envelope_id. A BEFORE INSERT trigger counts
each execution that reached the database and committed (``executions``): it fires for
every proposed row, also for one that ON CONFLICT then skips, and it rolls back with its
statement. A command is *replayed from the table* when its answer record appears twice
byte for byte (one execution, one answer envelope published again); it is *re-executed*
when an execution committed more than once (the ON CONFLICT absorbed the second insert).
"""

from __future__ import annotations

import asyncio
import json
import signal
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from tests.support.kafka_clients import AnswerReader, create_topics, produce
from tests.support.workers import WorkerProcess

PARTITIONS = 4
EFFECT_NODE = """\
schema_version: "1.0.0"
name: "ledger_effect"
node_type: "EFFECT"
io_operations:
  - {type: db, operations: ["db.execute"]}
"""
SLOW_NODE = """\
schema_version: "1.0.0"
name: "slow_compute"
node_type: "COMPUTE"
io_operations:
  - {type: local, operations: ["local.echo"]}
"""
RUNTIME = """\
schema_version: "2.0.0"
runtime:
  name: "{group}"
  event_bus:
    kind: kafka
    config:
      bootstrap_servers: "{bootstrap}"
      topics: {{input: "{cmd}"}}
      partitions: {partitions}
      create_topics: true
      max_inflight_envelopes: {inflight}
      idempotence: false
      session_timeout_ms: 3000
      heartbeat_interval_ms: 300
      rebalance_timeout_ms: 1000
  shutdown_timeout_seconds: 10
  handlers:
    - type: db
      config: {{dsn: "${{DATABASE_URL}}", pool_size: 2}}
    - type: local
  nodes:
    - slug: ledger_effect
      idempotent: {idempotent}
    - slug: slow_compute
"""
KEYED_SQL = (
    "INSERT INTO ledger (envelope_id, n) VALUES ($1, $2) ON CONFLICT (envelope_id) DO NOTHING"
)
PLAIN_SQL = "INSERT INTO ledger (envelope_id, n) VALUES ($1, $2)"
SCHEMA = """
CREATE TABLE ledger (envelope_id uuid {key}, n int NOT NULL);
CREATE TABLE executions (envelope_id uuid NOT NULL);
CREATE FUNCTION count_execution() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO executions VALUES (NEW.envelope_id); RETURN NEW; END $$;
CREATE TRIGGER count_execution BEFORE INSERT ON ledger
    FOR EACH ROW EXECUTE FUNCTION count_execution();
"""


def topics(domain: str) -> tuple[str, str]:
    """The command and event topics of a scenario."""
    return f"onex.{domain}.ledger.cmd.v1", f"onex.{domain}.ledger.evt.v1"


def write_contract(
    root: Path, bootstrap: str, domain: str, *, idempotent: bool, inflight: int = 400
) -> Path:
    """A kafka runtime contract hosting ``ledger_effect`` (db) and ``slow_compute``."""
    (root / "nodes").mkdir(parents=True, exist_ok=True)
    (root / "nodes" / "ledger_effect.yaml").write_text(EFFECT_NODE)
    (root / "nodes" / "slow_compute.yaml").write_text(SLOW_NODE)
    (root / "runtime").mkdir(exist_ok=True)
    path = root / "runtime" / f"{domain}.yaml"
    cmd, _ = topics(domain)
    path.write_text(
        RUNTIME.format(
            group=f"{domain}-host",
            bootstrap=bootstrap,
            cmd=cmd,
            partitions=PARTITIONS,
            inflight=inflight,
            idempotent=str(idempotent).lower(),
        )
    )
    return path


async def create_schema(server_dsn: str, schema: str, *, keyed: bool) -> str:
    """A fresh schema with ``ledger`` (envelope_id PRIMARY KEY when ``keyed``) and the
    execution counter; a DSN whose search_path is that schema."""
    admin = await asyncpg.connect(server_dsn)
    try:
        await admin.execute(f"CREATE SCHEMA {schema}; SET search_path = {schema};")
        await admin.execute(SCHEMA.format(key="PRIMARY KEY" if keyed else "NOT NULL"))
    finally:
        await admin.close()
    return f"{server_dsn}?search_path={schema}"


def insert_command(n: int, *, keyed: bool) -> dict[str, Any]:
    """A db.execute command inserting row ``n`` keyed by its own envelope_id."""
    envelope_id = str(uuid.uuid4())
    return {
        "envelope_id": envelope_id,
        "correlation_id": str(uuid.uuid4()),
        "source_node": "test",
        "target_node": "ledger_effect",
        "handler_type": "db",
        "operation": "db.execute",
        "payload": {"sql": KEYED_SQL if keyed else PLAIN_SQL, "parameters": [envelope_id, n]},
    }


def slow_command(n: int, delay_ms: int) -> dict[str, Any]:
    """A local.echo command of the COMPUTE node that waits ``delay_ms`` (delay_worker)."""
    return {
        "envelope_id": str(uuid.uuid4()),
        "correlation_id": str(uuid.uuid4()),
        "source_node": "test",
        "target_node": "slow_compute",
        "handler_type": "local",
        "operation": "local.echo",
        "payload": {"n": n, "delay_ms": delay_ms},
    }


async def send(bootstrap: str, topic: str, commands: list[dict[str, Any]]) -> None:
    """Produce commands keyed by correlation_id."""
    values = [json.dumps(c).encode() for c in commands]
    keys = [c["correlation_id"].encode() for c in commands]
    await produce(bootstrap, topic, values, keys)


@dataclass
class Ledger:
    """What a run did, counted in the database and on the event topic."""

    commands: int
    rows: int = 0
    distinct_rows: int = 0
    executions: int = 0
    answers: int = 0
    answered: int = 0
    replayed_from_table: int = 0
    answers_per_command: Counter[int] = field(default_factory=Counter)

    @property
    def re_executed(self) -> int:
        """Executions beyond the first per command (absorbed by ON CONFLICT if keyed)."""
        return self.executions - self.distinct_rows

    @property
    def duplicate_rows(self) -> int:
        """Rows beyond one per command (only without the envelope_id key)."""
        return self.rows - self.distinct_rows

    def lines(self, title: str) -> list[str]:
        """The ledger as text."""
        return [
            f"{title}: {self.commands} commands",
            f"  answered {self.answered} (answer records {self.answers})",
            f"  rows {self.rows}, distinct envelope_ids {self.distinct_rows}, "
            f"duplicate rows {self.duplicate_rows}",
            f"  executions committed {self.executions}: re-executed {self.re_executed}",
            f"  answers re-published from the answers table {self.replayed_from_table}",
        ]


async def count(dsn: str, reader: AnswerReader, commands: int) -> Ledger:
    """The ledger of a finished run."""
    ledger = Ledger(commands)
    connection = await asyncpg.connect(dsn)
    try:
        ledger.rows = await connection.fetchval("SELECT count(*) FROM ledger")
        ledger.distinct_rows = await connection.fetchval(
            "SELECT count(DISTINCT envelope_id) FROM ledger"
        )
        ledger.executions = await connection.fetchval("SELECT count(*) FROM executions")
    finally:
        await connection.close()
    values = Counter(record.value for record in reader.records)
    ledger.answers = len(reader.records)
    ledger.answered = len(reader.answers)
    ledger.replayed_from_table = sum(n - 1 for n in values.values())
    ledger.answers_per_command = Counter(reader.answers.values())
    return ledger


async def sigkill_run(
    bootstrap: str,
    root: Path,
    domain: str,
    dsn: str,
    *,
    commands: int,
    kills: int,
    idempotent: bool,
    keyed: bool,
    workers: list[WorkerProcess],
    seconds: float = 120,
) -> Ledger:
    """Produce ``commands`` inserts, run one worker and SIGKILL it ``kills`` times
    mid-stream (each after a further share of the answers), restart it, and read until
    every command is answered; then count."""
    cmd, evt = topics(domain)
    await create_topics(bootstrap, [cmd, evt, cmd.replace(".cmd.", ".error.")], PARTITIONS)
    path = write_contract(root, bootstrap, domain, idempotent=idempotent)
    batch = [insert_command(n, keyed=keyed) for n in range(commands)]
    env = {"DATABASE_URL": dsn}
    async with AnswerReader(bootstrap, evt) as reader:
        await send(bootstrap, cmd, batch)
        worker = WorkerProcess(path, **env).start()
        workers.append(worker)
        for kill in range(1, kills + 1):
            await reader.read_at_least(commands * kill // (kills + 1), seconds)
            worker.signal(signal.SIGKILL)
            worker.wait()
            worker = WorkerProcess(path, **env).start()
            workers.append(worker)
        await reader.read_until({c["envelope_id"] for c in batch}, seconds)
        worker.signal(signal.SIGTERM)
        await asyncio.to_thread(worker.wait, 30)
        await reader.read_to_end(10)
    return await count(dsn, reader, commands)
