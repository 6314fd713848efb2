"""Graceful rebalances (real broker): a worker joining or leaving mid-stream repeats no answer."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path

from tests.integration.kafka.conftest import ContractFactory
from tests.support.kafka import TansuBroker
from tests.support.kafka_clients import AnswerReader, command, create_topics
from tests.support.scale_out import (
    STEPS,
    AnswerTimeline,
    Command,
    SteadyStream,
    first_step,
    latest_assignment,
    read_settled,
    wait_split,
)
from tests.support.workers import WorkerProcess

PARTITIONS = 8
RATE = 500  # commands per second: a steady stream one worker answers easily
ANSWERED_BEFORE = 300  # answers before the rebalance is caused, and again after it


def topics(domain: str) -> list[str]:
    """The command, event and dead-letter topics of ``domain``."""
    return [f"onex.{domain}.orders.{signal}.v1" for signal in ("cmd", "evt", "error")]


def echo(n: int) -> Command:
    """One local.echo command keyed by its correlation_id."""
    body = command(n)
    return body["envelope_id"], body["correlation_id"].encode(), json.dumps(body).encode()


def summary(timeline: AnswerTimeline, rebalance: float, stream: SteadyStream) -> str:
    """Envelopes, duplicates and the longest pause in answers, for the test's output."""
    pause, at = timeline.longest_gap(stream.started + 0.5, stream.stopped)
    return (
        f"{len(stream.ids)} envelopes at {RATE}/s: {timeline.duplicates()} duplicate answers "
        f"({timeline.duplicates(answered_before=rebalance)} of envelopes answered before the "
        f"rebalance); longest pause {pause:.2f} s, {at - rebalance:+.2f} s from the revoke"
    )


async def first_worker(
    kafka: TansuBroker, contract: ContractFactory, workers: list[WorkerProcess], domain: str
) -> tuple[list[str], Path, WorkerProcess]:
    """``domain``'s topics created, its contract, and a first worker ready on it."""
    names = topics(domain)
    await create_topics(kafka.bootstrap, names, partitions=PARTITIONS)
    path = contract(
        kafka.bootstrap,
        group=f"rebalance-{domain}",
        domain=domain,
        partitions=PARTITIONS,
        create_topics=False,
    )
    worker = WorkerProcess(path).start()
    workers.append(worker)
    await asyncio.to_thread(worker.wait_ready)
    return names, path, worker


async def test_a_worker_joining_a_busy_group_repeats_no_answer_and_every_envelope_is_answered(
    kafka: TansuBroker, contract: ContractFactory, workers: list[WorkerProcess]
) -> None:
    (cmd, evt, _), path, first = await first_worker(kafka, contract, workers, "rejoin")
    async with AnswerReader(kafka.bootstrap, evt) as reader:
        stream = await SteadyStream(kafka.bootstrap, cmd, RATE, echo).start()
        try:
            await reader.read_at_least(ANSWERED_BEFORE, seconds=20)
            joining = time.time()
            second = WorkerProcess(path).start()
            workers.append(second)
            await asyncio.to_thread(second.wait_for, STEPS["assigned"], 30)
            await asyncio.to_thread(second.wait_for, STEPS["ready"], 10)
            await reader.read_at_least(len(reader.answers) + ANSWERED_BEFORE, seconds=20)
        finally:
            await stream.stop()
        await read_settled(reader, stream.expected, seconds=30)
    revoked = first_step(first, "revoke", since=joining)
    assert revoked is not None, "the first worker's partitions were never revoked"
    timeline = AnswerTimeline(reader.records)
    print(f"\nA second worker joins: {summary(timeline, revoked, stream)}")
    split = latest_assignment(first, cmd), latest_assignment(second, cmd)
    assert split[0] and split[1] and not split[0] & split[1]  # the newcomer took some over
    assert stream.expected <= set(reader.answers)  # every envelope answered
    assert timeline.duplicates(answered_before=revoked) == 0
    assert timeline.duplicates() == 0  # in-flight envelopes were finished and committed


async def test_a_worker_leaving_on_sigterm_repeats_no_answer_and_the_other_answers_the_rest(
    kafka: TansuBroker, contract: ContractFactory, workers: list[WorkerProcess]
) -> None:
    (cmd, evt, _), path, staying = await first_worker(kafka, contract, workers, "leave")
    # joins the second generation: tansu numbers the first one 0, and aiokafka sends no
    # LeaveGroup from generation 0 (the group would wait for the session timeout instead)
    leaving = WorkerProcess(path).start()
    workers.append(leaving)
    await wait_split([staying, leaving], cmd, PARTITIONS, seconds=40)
    async with AnswerReader(kafka.bootstrap, evt) as reader:
        stream = await SteadyStream(kafka.bootstrap, cmd, RATE, echo).start()
        try:
            await reader.read_at_least(ANSWERED_BEFORE, seconds=20)
            left, mark = time.time(), len(staying.lines)
            leaving.signal(signal.SIGTERM)
            assert await asyncio.to_thread(leaving.wait, 20) == 0
            assert "LeaveGroup request succeeded" in leaving.output  # a graceful leave
            while latest_assignment(staying, cmd) != set(range(PARTITIONS)):  # took all over
                mark = await asyncio.to_thread(staying.wait_for, STEPS["ready"], 20, mark) + 1
            await reader.read_at_least(len(reader.answers) + ANSWERED_BEFORE, seconds=20)
        finally:
            await stream.stop()
        await read_settled(reader, stream.expected, seconds=30)
    revoked = first_step(staying, "revoke", since=left)
    assert revoked is not None, "the staying worker's partitions were never revoked"
    timeline = AnswerTimeline(reader.records)
    print(f"\nOne of two workers leaves (SIGTERM): {summary(timeline, revoked, stream)}")
    assert stream.expected <= set(reader.answers)  # every envelope answered
    assert timeline.duplicates(answered_before=revoked) == 0
    assert timeline.duplicates() == 0
