"""``omnibase-runtime-replay`` on a real broker (tansu): dead letters a host wrote are
re-sent only on confirmation, and answered once the fix is deployed; filters select by
reason, partition, offset and time; truncated dead letters are never re-sent."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from uuid import uuid4

import pytest
from aiokafka import AIOKafkaProducer

from onex_stream.cli.replay import main
from onex_stream.core.errors import EnvelopeValidationError, EventBusError
from onex_stream.infra.event_bus.kafka.dead_letters import (
    REPLAY_HEADER,
    DeadLetter,
    ReadWindow,
    read_dead_letters,
)
from onex_stream.infra.event_bus.records import Origin, Outbound, dead_letter_record
from tests.integration.kafka.conftest import ContractFactory
from tests.support.kafka import TansuBroker
from tests.support.kafka_clients import AnswerReader, command, create_topics, produce
from tests.support.tcp_proxy import free_port
from tests.support.workers import WorkerProcess

LIMIT = "      idempotence: false\n"
SMALL_LIMIT = LIMIT + "      max_envelope_bytes: 1024\n"


async def dead_letters_when(bootstrap: str, topic: str, count: int) -> list[DeadLetter]:
    """The topic's dead letters once there are ``count`` of them (within 30 s)."""
    deadline = time.monotonic() + 30
    while True:
        letters = await read_dead_letters(bootstrap, topic, ReadWindow(), {})
        if len(letters) >= count or time.monotonic() > deadline:
            assert len(letters) == count, letters
            return letters
        await asyncio.sleep(0.05)


async def replay(*args: str, answer: bool = False) -> tuple[int, list[str]]:
    """Run the CLI in a thread (it runs its own event loop); its code and the questions."""
    asked: list[str] = []

    def confirm(question: str) -> bool:
        asked.append(question)
        return answer

    code = await asyncio.to_thread(main, list(args), confirm)
    return code, asked


@pytest.mark.slow
async def test_dead_letters_replayed_after_a_fix_are_answered_and_never_without_consent(
    kafka: TansuBroker,
    contract: ContractFactory,
    workers: list[WorkerProcess],
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = contract(kafka.bootstrap, group="replay-fix", domain="replayfix")
    path.write_text(path.read_text().replace(LIMIT, SMALL_LIMIT))  # the bug: a limit too small
    cmd, evt, dlq = (f"onex.replayfix.orders.{s}.v1" for s in ("cmd", "evt", "error"))
    worker = WorkerProcess(path).start()
    workers.append(worker)
    worker.wait_ready()
    large = [command(n, payload={"n": n, "blob": "x" * 2000}) for n in range(3)]
    sent = [*large, command(99)]
    values = [json.dumps(c).encode() for c in sent] + [b"not json"]
    keys = [c["correlation_id"].encode() for c in sent] + [b"garbage"]
    await produce(kafka.bootstrap, cmd, values, keys)
    letters = await dead_letters_when(kafka.bootstrap, dlq, 4)  # 3 too large, 1 not JSON
    worker.signal(signal.SIGTERM)
    assert worker.wait() == 0
    path.write_text(path.read_text().replace(SMALL_LIMIT, LIMIT))  # the fix, deployed
    fixed = WorkerProcess(path).start()
    workers.append(fixed)
    fixed.wait_ready()
    capsys.readouterr()

    code, asked = await replay(str(path), "--reason", "exceeds the limit")  # answered "no"
    assert code == 0 and asked == [f"Re-send 3 record(s) (3 to {cmd})?"]
    dry = capsys.readouterr().out
    assert "nothing re-sent (dry run)" in dry and dry.count(cmd) >= 3
    commands = await read_dead_letters(kafka.bootstrap, cmd, ReadWindow(), {})
    assert len(commands) == 5  # nothing was re-sent

    code, asked = await replay(str(path), "--reason", "exceeds the limit", "--yes")
    assert code == 0 and asked == []
    assert "3 re-sent, 0 failed" in capsys.readouterr().out
    large_ids = {c["envelope_id"] for c in large}

    def answered() -> dict[str, list[dict[str, object]]]:
        found: dict[str, list[dict[str, object]]] = {}
        for record in reader.records:
            answer = json.loads(record.value)
            found.setdefault(answer["causation_id"], []).append(answer)
        return found

    def successes() -> set[str]:
        return {cause for cause, a in answered().items() if any(x["success"] for x in a)}

    async with AnswerReader(kafka.bootstrap, evt) as reader:
        await reader.read_while(lambda: not large_ids <= successes(), seconds=30)
    for original in large:  # first refused as too large, then answered after the replay
        answers = answered()[original["envelope_id"]]
        assert [a["success"] for a in answers] == [False, True]
        assert answers[1]["correlation_id"] == original["correlation_id"]
    keys = {r.key for r in reader.records if json.loads(r.value)["causation_id"] in large_ids}
    assert keys == {c["correlation_id"].encode() for c in large}
    commands = await read_dead_letters(kafka.bootstrap, cmd, ReadWindow(), {})
    resent = {(c.key, c.value) for c in commands if REPLAY_HEADER in c.headers}
    too_large = [letter for letter in letters if "exceeds" in letter.reason]
    assert resent == {(letter.key, letter.value) for letter in too_large}  # the original bytes
    assert len(commands) == 8  # the not-JSON dead letter was not selected


def crafted(topic: str, n: int, reason: str, *, max_bytes: int = 1_000_000) -> Outbound:
    """A dead letter as a host writes it, of a valid command (padded to ~4 KB)."""
    original = command(n)
    return dead_letter_record(
        topic,
        original["correlation_id"].encode(),
        json.dumps({**original, "pad": "p" * 4000}).encode(),
        EnvelopeValidationError(reason),
        Origin(topic.replace(".error.", ".cmd."), 0, n),
        max_bytes=max_bytes,
    )


async def produce_letters(bootstrap: str, rows: list[tuple[int, int, Outbound]]) -> None:
    """Produce (partition, timestamp_ms, dead letter) one by one, in order."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for partition, timestamp_ms, record in rows:
            await producer.send_and_wait(
                record.topic,
                record.value,
                key=record.key,
                headers=record.headers,
                partition=partition,
                timestamp_ms=timestamp_ms,
            )
    finally:
        await producer.stop()


@pytest.fixture
async def selection(kafka: TansuBroker) -> tuple[str, str]:
    """(dead-letter topic, its command topic), 2 partitions: partition 0 holds offsets 0-3,
    partition 1 offsets 0-1; written 1000 s apart from 2026-01-01T00:00:00Z; partition 0
    offset 3 is truncated."""
    domain = f"sel{uuid4().hex[:8]}"
    dlq, cmd = f"onex.{domain}.orders.error.v1", f"onex.{domain}.orders.cmd.v1"
    await create_topics(kafka.bootstrap, [dlq, cmd], 2)
    start = 1_767_225_600_000
    reasons = ["record value is not JSON: a", "invalid envelope: b", "record value is not JSON: c"]
    rows = [(0, start + i * 1_000_000, crafted(dlq, i, reason)) for i, reason in enumerate(reasons)]
    rows.append((0, start + 3_000_000, crafted(dlq, 3, "invalid envelope: d", max_bytes=2048)))
    rows += [(1, start + (4 + i) * 1_000_000, crafted(dlq, 4 + i, "invalid")) for i in range(2)]
    await produce_letters(kafka.bootstrap, rows)
    return dlq, cmd


async def selected(
    capsys: pytest.CaptureFixture[str], bootstrap: str, topic: str, *args: str
) -> list[tuple[int, int]]:
    """(partition, offset) of the rows the CLI lists for ``args``; it is asked, told no."""
    capsys.readouterr()
    code, _ = await replay("--bootstrap-servers", bootstrap, "--topic", topic, *args)
    assert code == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    return [
        (int(r[0]), int(r[1])) for r in rows if len(r) > 2 and r[0].isdigit() and r[1].isdigit()
    ]


async def test_filters_select_by_reason_partition_offset_and_time(
    kafka: TansuBroker, selection: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    b, dlq = kafka.bootstrap, selection[0]
    assert await selected(capsys, b, dlq) == [(0, 0), (0, 1), (0, 2), (0, 3), (1, 0), (1, 1)]
    assert await selected(capsys, b, dlq, "--reason", "NOT JSON") == [(0, 0), (0, 2)]
    assert await selected(capsys, b, dlq, "--partition", "1") == [(1, 0), (1, 1)]
    assert await selected(capsys, b, dlq, "--from-offset", "1", "--to-offset", "2") == [
        (0, 1), (0, 2), (1, 1)
    ]  # fmt: skip
    window = ("--since", "2026-01-01T00:16:40Z", "--until", "2026-01-01T01:23:20")
    assert await selected(capsys, b, dlq, *window) == [(0, 1), (0, 2), (0, 3), (1, 0)]
    letters = await read_dead_letters(b, dlq, ReadWindow(since_ms=1_767_229_600_000), {})
    assert [(d.partition, d.offset) for d in letters] == [(1, 0), (1, 1)]


async def test_truncated_dead_letters_are_listed_but_never_re_sent(
    kafka: TansuBroker, selection: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    dlq, cmd = selection
    code, _ = await replay(
        "--bootstrap-servers", kafka.bootstrap, "--topic", dlq, "--partition", "0",
        "--from-offset", "2", "--yes",
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "not re-sent: partition 0 offset 3: truncated:" in out
    assert f"re-sent partition 0 offset 2 -> {cmd}" in out
    assert "1 re-sent, 0 failed" in out
    commands = await read_dead_letters(kafka.bootstrap, cmd, ReadWindow(), {})
    assert [c.headers[REPLAY_HEADER] for c in commands] == [f"{dlq}/0/2".encode()]


def test_a_missing_topic_or_an_unreachable_broker_is_one_line_without_traceback(
    kafka: TansuBroker,
) -> None:
    for bootstrap, topic, message in [
        (kafka.bootstrap, "onex.absent.orders.error.v1", "no topic 'onex.absent.orders.error.v1'"),
        (f"127.0.0.1:{free_port()}", "onex.any.orders.error.v1", "cannot reach Kafka at"),
    ]:
        done = subprocess.run(
            [sys.executable, "-m", "onex_stream.cli.replay", "--bootstrap-servers", bootstrap,
             "--topic", topic, "--yes"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 1
        assert done.stderr.count("\n") == 1 and message in done.stderr, done.stderr
        assert done.stderr.startswith("omnibase-runtime-replay: ")


def test_without_a_contract_the_brokers_and_topic_are_required(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--topic", "onex.a.b.error.v1"]) == 1
    assert "give a CONTRACT, or --bootstrap-servers and --topic" in capsys.readouterr().err


def test_read_errors_are_event_bus_errors() -> None:
    with pytest.raises(EventBusError, match="cannot reach Kafka"):
        asyncio.run(read_dead_letters(f"127.0.0.1:{free_port()}", "t", ReadWindow(), {}))


def test_a_time_that_is_not_iso_8601_is_refused_in_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = ["--bootstrap-servers", "127.0.0.1:1", "--topic", "t", "--since", "yesterday"]
    assert main(args) == 1
    assert capsys.readouterr().err == (
        "omnibase-runtime-replay: --since 'yesterday' is not an ISO 8601 time "
        "(e.g. 2026-11-30T09:00:00Z)\n"
    )
