"""Effectively-once side effects on a real broker (tansu) and a real PostgreSQL.

An EFFECT node inserts one row per command. Its answers are remembered by envelope_id
in a changelog-backed table: a command delivered again after a worker died gets its
stored answer re-published instead of inserting again. What the table cannot cover, a
worker dying between the database commit and the table's changelog record, is absorbed
by the insert's own key (``ON CONFLICT (envelope_id) DO NOTHING``).
"""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from tests.integration.kafka.conftest import ContractFactory
from tests.support import effectively_once as eo
from tests.support import postgres
from tests.support.kafka import TansuBroker
from tests.support.kafka_clients import AnswerReader, committed_offsets, create_topics
from tests.support.postgres import EmbeddedPostgres
from tests.support.workers import WorkerProcess

postgres_server = postgres.postgres_server  # the session's PostgreSQL (tests/support/postgres.py)
DELAY_APP = "tests.support.delay_worker"
#: Commands of the SIGKILL run: the acceptance figure (about 50 s on this machine).
SIGKILL_COMMANDS = 5000


async def schema(server: EmbeddedPostgres, *, keyed: bool) -> tuple[str, str]:
    name = f"eo_{uuid4().hex[:12]}"
    return name, await eo.create_schema(server.dsn, name, keyed=keyed)


@pytest.fixture
async def drop_schemas(postgres_server: EmbeddedPostgres) -> AsyncIterator[list[str]]:
    names: list[str] = []
    yield names
    admin = await asyncpg.connect(postgres_server.dsn)
    try:
        for name in names:
            await admin.execute(f"DROP SCHEMA {name} CASCADE")
    finally:
        await admin.close()


async def test_sigkilled_three_times_every_insert_lands_exactly_once(
    kafka: TansuBroker,
    postgres_server: EmbeddedPostgres,
    drop_schemas: list[str],
    workers: list[WorkerProcess],
    tmp_path: Path,
) -> None:
    name, dsn = await schema(postgres_server, keyed=True)
    drop_schemas.append(name)
    ledger = await eo.sigkill_run(
        kafka.bootstrap,
        tmp_path,
        "eokill",
        dsn,
        commands=SIGKILL_COMMANDS,
        kills=3,
        idempotent=True,
        keyed=True,
        workers=workers,
        seconds=150,
    )
    print("\n" + "\n".join(ledger.lines("answers table on, keyed inserts, 3 x SIGKILL")))
    assert ledger.answered == SIGKILL_COMMANDS
    assert ledger.rows == ledger.distinct_rows == SIGKILL_COMMANDS  # one row per envelope_id
    assert ledger.replayed_from_table > 0  # replays were answered without executing
    # re-executed: only inserts between their commit and their changelog record's ack when
    # the worker died, all of one batch (stage 1 acks a batch's records before the next)
    assert ledger.re_executed <= 3 * 100


async def test_a_worker_killed_mid_stream_leaves_no_command_executed_twice(
    kafka: TansuBroker,
    postgres_server: EmbeddedPostgres,
    drop_schemas: list[str],
    workers: list[WorkerProcess],
    tmp_path: Path,
) -> None:
    """Two workers in one group; one is SIGKILLed while it waits in a slow (side-effect
    free) command, its last inserts answered only in the table, their offsets not
    committed. The survivor takes its partitions over, restores the table from the
    changelog and answers those replays from it: every insert runs exactly once.

    The kill is timed so that no insert is between its database commit and its
    changelog record (the residual window that the SIGKILL test above measures), and
    offsets are committed every 30 s so that the victim's answered inserts are certainly
    delivered again."""
    name, dsn = await schema(postgres_server, keyed=False)  # a second insert would show
    drop_schemas.append(name)
    cmd, evt = eo.topics("eorebal")
    await create_topics(kafka.bootstrap, [cmd, evt, cmd.replace(".cmd.", ".error.")], 4)
    path = eo.write_contract(tmp_path, kafka.bootstrap, "eorebal", idempotent=True)
    # commits every 30 s (Faust reads BROKER_COMMIT_INTERVAL): what the victim answered
    # before the kill is certainly not committed, so the survivor gets it again
    env = {"DATABASE_URL": dsn, "BROKER_COMMIT_INTERVAL": "30"}
    first, second = (WorkerProcess(path, app=DELAY_APP, **env) for _ in range(2))
    workers.extend([first.start(), second.start()])
    first.wait_ready(60)
    second.wait_ready(60)
    await asyncio.sleep(4)  # the group settles with two members
    inserts = [eo.insert_command(n, keyed=False) for n in range(1200)]
    slow = [eo.slow_command(n, delay_ms=3000) for n in range(eo.PARTITIONS)]
    # per partition: 150 inserts, a slow command (answered last in its batch), 150 inserts
    share = len(inserts) // eo.PARTITIONS
    placed = [
        (p, command)
        for p in range(eo.PARTITIONS)
        for command in [
            *inserts[p * share : p * share + share // 2],
            slow[p],
            *inserts[p * share + share // 2 : (p + 1) * share],
        ]
    ]
    async with AnswerReader(kafka.bootstrap, evt) as reader:
        await send_to_partitions(kafka.bootstrap, cmd, placed)
        victim = await first_to_wait(first, second)
        await asyncio.sleep(0.5)  # well past the changelog acks of the inserts before it
        victim.signal(signal.SIGKILL)
        victim.wait()
        expected = {c["envelope_id"] for c in inserts + slow}
        try:
            await reader.read_until(expected, seconds=90)
        except TimeoutError as error:
            at = {c["envelope_id"]: (p, n) for n, (p, c) in enumerate(placed)}
            missing = sorted(at[envelope] for envelope in expected - set(reader.answers))
            committed = await committed_offsets(kafka.bootstrap, "eorebal-host", cmd)
            survivor = second if victim is first else first
            survivor.signal(signal.SIGTERM)  # its stop logs what was still in flight
            await asyncio.to_thread(survivor.wait, 40)
            for name, worker in (("first", first), ("second", second)):
                log = Path(f"/tmp/eo_rebalance_{name}.log")
                await asyncio.to_thread(log.write_text, worker.output)
            raise AssertionError(
                f"{error}: (partition, index) {missing[:3]}..{missing[-3:]}; committed "
                f"{committed}; victim {'first' if victim is first else 'second'}; "
                "worker logs in /tmp/eo_rebalance_*.log"
            ) from None
        survivor = second if victim is first else first
        survivor.signal(signal.SIGTERM)
        await asyncio.to_thread(survivor.wait, 30)
        await reader.read_to_end(10)
    ledger = await eo.count(dsn, reader, len(inserts))
    print("\n" + "\n".join(ledger.lines("two workers, one SIGKILLed mid-stream")))
    assert ledger.rows == ledger.executions == len(inserts)  # no insert executed twice
    assert ledger.distinct_rows == len(inserts)
    assert ledger.answered == len(expected)
    assert ledger.replayed_from_table > 0  # the victim's last inserts, answered by the survivor


async def send_to_partitions(bootstrap: str, topic: str, placed: list[tuple[int, dict]]) -> None:
    """Produce each command to its partition, in order."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        sends = [
            await producer.send(topic, json.dumps(command).encode(), partition=partition)
            for partition, command in placed
        ]
        await asyncio.gather(*sends)
    finally:
        await producer.stop()


async def first_to_wait(*candidates: WorkerProcess) -> WorkerProcess:
    """The worker that first logs that it waits in a slow command."""
    while True:
        for worker in candidates:
            if any("DelayedLocalHandler waits" in line for line in worker.lines):
                return worker
        await asyncio.sleep(0.02)


async def test_exactly_once_on_a_broker_without_transactions_names_the_setting(
    kafka: TansuBroker, contract: ContractFactory
) -> None:
    """tansu has no InitProducerId, so no transactions: the start fault says what to set."""
    path = contract(kafka.bootstrap, group="eos", domain="eos", create_topics=True)
    text = path.read_text().replace("idempotence: false", "processing_guarantee: exactly_once")
    path.write_text(text)
    worker = WorkerProcess(path).start()
    try:
        assert worker.wait(timeout=60) != 0
    finally:
        worker.stop()
    assert "processing_guarantee: exactly_once needs a broker with transactions" in worker.output
    assert "cannot start:" in worker.output
    assert "Traceback" not in worker.output
