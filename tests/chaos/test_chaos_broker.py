"""Chaos: the broker is the fault. A real Kafka-protocol broker (tansu) behind a TCP proxy
the test cuts, a worker as a real subprocess (``faust -A onex_stream worker``, serving
``/health/*`` on the contract's ``health.port``), an independent producer and an
independent reader (:mod:`tests.chaos.kafka_tap`) going through the same proxy.

1. **Connections cut for 5 s under load.** 2,000 local.echo commands at 150 a second
   (about 13 s): some are sent before the cut, some during it (the producer, with a 60 s
   request timeout and room for 512 KiB a partition, keeps them until the restore) and
   some after. ``/health/ready`` is polled every 25 ms: it must answer 503 with a
   ``broker unreachable`` reason during the outage and 200 again after the restore, with
   the same worker process (never restarted). Every command is answered (lost == 0);
   duplicates (at-least-once) are counted.
2. **SIGTERM during an outage.** The load runs, the broker is cut, the worker gets SIGTERM
   half a second later: it must exit 0 within ``shutdown_timeout_seconds`` +
   ``SHUTDOWN_MARGIN_SECONDS`` (stop_deadline.py), naming how many envelopes it left
   uncommitted. The broker is then restored and a new worker started on the same group:
   every command sent is answered (lost == 0); duplicates are counted.

The ledger's ``recovery`` runs from the restore to the first ok answer the worker *wrote*
after it (by the answer's timestamp): the tap is behind the cut proxy too and reads answers
written before the cut only after the restore. ``commands_in_topic`` above ``sent`` means
the test's own producer (not idempotent: tansu has no ``InitProducerId``) wrote a batch
twice, retrying one whose acknowledgement the cut lost; those show as duplicates too.

The count the exit names is every envelope delivered since the last commit (answered
or not): a replacement worker receives each again, so it is at least the duplicates the
new worker writes (less any the test's own producer wrote twice). It once named only the
envelopes taken and not yet answered (a handful, against ~250 duplicates).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import signal
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.infra.event_bus.stop_deadline import SHUTDOWN_MARGIN_SECONDS
from tests.chaos.harness import command
from tests.chaos.kafka_tap import KafkaTap, kafka_tapped
from tests.chaos.ledger import FAULT, HEALED, OK, Ledger, Recorder, emit
from tests.support.contracts import ECHO_NODE, write_contract
from tests.support.kafka import TansuBroker
from tests.support.kafka_clients import committed_offsets, create_topics, record_counts
from tests.support.tcp_proxy import TcpProxy, free_port
from tests.support.workers import WorkerProcess

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(60)]

OUTAGE_SECONDS = 5.0
RATE = 150.0  # commands a second
POLL = 0.025  # /health/ready poll period (seconds)
SHUTDOWN_TIMEOUT = 2.0
PARTITIONS = 4
BROKER_UNREACHABLE = "broker unreachable"
UNCOMMITTED = re.compile(r"(\d+) envelope\(s\) delivered since the last commit will be delivered")
READY_LINE = "RuntimeHost ready"


def runtime(bootstrap: str, domain: str, port: int) -> str:
    """A kafka runtime contract: echo node, short group timeouts (tansu), readiness that
    notices a silent broker after 3 x 0.5 s."""
    return f"""\
schema_version: "2.0.0"
runtime:
  name: "chaos_{domain}"
  shutdown_timeout_seconds: {SHUTDOWN_TIMEOUT}
  event_bus:
    kind: kafka
    config:
      bootstrap_servers: "{bootstrap}"
      topics: {{input: "onex.chaos.{domain}.cmd.v1"}}
      partitions: {PARTITIONS}
      create_topics: false
      idempotence: false
      session_timeout_ms: 3000
      heartbeat_interval_ms: 300
      rebalance_timeout_ms: 1000
  metrics: {{refresh_seconds: 0.5}}
  health: {{port: {port}}}
  handlers:
    - type: local
  nodes:
    - slug: echo_node
"""


def topics(domain: str) -> tuple[str, str, str]:
    """Command, event and dead-letter topics of ``domain``."""
    return tuple(f"onex.chaos.{domain}.{s}.v1" for s in ("cmd", "evt", "error"))  # type: ignore[return-value]


@dataclass
class Setup:
    """A broker behind a proxy, topics, a contract, and the worker's health URL."""

    broker: TansuBroker
    contract: Path
    port: int
    cmd: str
    evt: str
    error: str

    def cut(self) -> None:
        assert self.broker.proxy is not None
        self.broker.proxy.cut()

    def restore(self) -> None:
        assert self.broker.proxy is not None
        self.broker.proxy.restore()


@contextlib.asynccontextmanager
async def broker_setup(tmp_path: Path, domain: str) -> AsyncIterator[Setup]:
    """A tansu broker behind a :class:`TcpProxy`, the domain's topics, a contract."""
    broker = TansuBroker(proxy_class=TcpProxy, log_path=tmp_path / "tansu.log").start()
    try:
        cmd, evt, error = topics(domain)
        await create_topics(broker.bootstrap, [cmd, evt, error], partitions=PARTITIONS)
        port = free_port()
        path = write_contract(
            tmp_path, runtime(broker.bootstrap, domain, port), {"echo_node": ECHO_NODE}
        )
        yield Setup(broker, path, port, cmd, evt, error)
    finally:
        broker.stop()


@contextlib.asynccontextmanager
async def started_worker(setup: Setup) -> AsyncIterator[list[WorkerProcess]]:
    """Worker processes the scenario starts (the first one started here); killed at exit."""
    started = [WorkerProcess(setup.contract, web=True).start()]
    try:
        yield started
    except BaseException:
        for n, worker in enumerate(started):
            print(f"\n-- worker {n} output (last 4000 characters):\n{worker.output[-4000:]}")
        raise
    finally:
        for worker in started:
            worker.stop()


# -- readiness ------------------------------------------------------------------------------


@dataclass
class Readiness:
    """``/health/ready`` sampled every :data:`POLL` s: ``(at, status or None, reasons)``."""

    client: httpx.AsyncClient
    samples: list[tuple[float, int | None, list[str]]] = field(default_factory=list)

    async def run(self) -> None:
        while True:
            try:
                answer = await self.client.get("/health/ready", timeout=1.0)
                reasons = list(answer.json().get("reasons", [])) if answer.content else []
                self.samples.append((time.monotonic(), answer.status_code, reasons))
            except (httpx.HTTPError, ValueError):  # not serving (yet, any more)
                self.samples.append((time.monotonic(), None, []))
            await asyncio.sleep(POLL)

    def first(
        self, after: float, match: Callable[[int | None, list[str]], bool]
    ) -> tuple[float, list[str]] | None:
        """The first sample at or after ``after`` that ``match``es: (at, reasons)."""
        return next(
            (
                (at, reasons)
                for at, status, reasons in self.samples
                if at >= after and match(status, reasons)
            ),
            None,
        )

    async def wait(
        self,
        after: float,
        match: Callable[[int | None, list[str]], bool],
        seconds: float,
        what: str,
        worker: WorkerProcess | None = None,
    ) -> tuple[float, list[str]]:
        """Wait for :meth:`first`; ``TimeoutError`` naming ``what`` after ``seconds``, or
        at once if ``worker`` exited."""
        deadline = time.monotonic() + seconds
        while (found := self.first(after, match)) is None:
            if worker is not None and worker.process is not None:
                code = worker.process.poll()
                assert code is None, f"{what}: the worker exited with {code}"
            if time.monotonic() > deadline:
                last = self.samples[-1] if self.samples else None
                raise TimeoutError(f"{what}: not within {seconds} s (last sample {last})")
            await asyncio.sleep(POLL / 2)
        return found

    def count(self, start: float, end: float, status: int | None) -> int:
        """Samples answering ``status`` between ``start`` and ``end``."""
        return sum(1 for at, s, _ in self.samples if start <= at < end and s == status)


def ready(status: int | None, _: list[str]) -> bool:
    return status == 200


def broker_unreachable(status: int | None, reasons: list[str]) -> bool:
    return status == 503 and any(r.startswith(BROKER_UNREACHABLE) for r in reasons)


@contextlib.asynccontextmanager
async def watched_readiness(port: int) -> AsyncIterator[Readiness]:
    """A :class:`Readiness` polling ``127.0.0.1:port`` meanwhile."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        watch = Readiness(client)
        task = asyncio.create_task(watch.run())
        try:
            yield watch
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


# -- load -----------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def producing(bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    """An aiokafka producer that keeps what it cannot send for 60 s (512 KiB a partition
    before ``send`` would block); stopped (bounded) at exit."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=5,
        request_timeout_ms=60_000,
        max_batch_size=512 * 1024,
    )
    await producer.start()
    try:
        yield producer
    finally:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(producer.stop(), 10)


@dataclass
class PacedLoad:
    """``total`` local.echo commands, the n-th handed to the producer at ``n / RATE`` s,
    noted in the recorder when ``send`` returns (the producer holds it from then on)."""

    producer: AIOKafkaProducer
    topic: str
    recorder: Recorder
    total: int
    deliveries: list[asyncio.Future[Any]] = field(default_factory=list)

    async def run(self) -> None:
        start = time.monotonic()
        for n in range(self.total):
            delay = start + n / RATE - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            value = command(n, "echo_node", "local.echo", {"n": n})
            self.deliveries.append(
                await self.producer.send(
                    self.topic, json.dumps(value).encode(), key=value["correlation_id"].encode()
                )
            )
            self.recorder.note_sent(value["envelope_id"])

    async def failures(self, seconds: float) -> int:
        """Wait until the broker acknowledged every command; how many it never did."""
        done, pending = await asyncio.wait(self.deliveries, timeout=seconds)
        return len(pending) + sum(1 for d in done if d.exception() is not None)


def sent_by_phase(recorder: Recorder) -> dict[str, int]:
    """Commands handed to the producer before the cut, during it, after the restore."""
    fault = recorder.marks.get(FAULT, float("inf"))
    healed = recorder.marks.get(HEALED, float("inf"))
    times = recorder.sent.values()
    return {
        "before": sum(1 for t in times if t < fault),
        "during": sum(1 for t in times if fault <= t < healed),
        "after": sum(1 for t in times if t >= healed),
    }


async def settle(recorder: Recorder, tap: KafkaTap, load: PacedLoad, seconds: float) -> int:
    """Every command acknowledged by the broker and answered; late duplicates read. The
    number of commands the broker never acknowledged."""
    failures = await load.failures(seconds)
    await recorder.wait_until(recorder.settled, seconds, "every command answered")
    await tap.quiet(1.0, at_most=5.0)
    return failures


async def commands_in_topic(setup: Setup) -> int:
    """Command records the topic holds (more than sent: the test producer sent some twice,
    retrying a batch whose acknowledgement the cut lost)."""
    counts = await record_counts(setup.broker.bootstrap, setup.cmd, PARTITIONS)
    return sum(counts.values())


def written_after(moment: datetime) -> Callable[[ModelOnexEnvelope], bool]:
    """Answers the worker wrote after ``moment`` (by their timestamp, the worker's clock)."""
    return lambda envelope: envelope.timestamp is not None and envelope.timestamp >= moment


def finish(
    recorder: Recorder, scenario: str, extra: dict[str, Any], restored: datetime | None
) -> Ledger:
    """The scenario's ledger, printed and written. Its recovery runs from the restore to
    the first ok answer *written* after it: the tap is behind the cut proxy too, and reads
    answers written before the cut only after the restore."""
    ledger = recorder.ledger(
        scenario, extra=extra, dependency=written_after(restored) if restored else None
    )
    emit(ledger)
    return ledger


def rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


# -- 1. connections cut for 5 s under load --------------------------------------------------

CUT_LOAD = 2000
CUT_AFTER = 400  # commands sent before the cut


async def test_broker_cut_for_five_seconds_under_load_loses_nothing_and_readiness_follows(
    tmp_path: Path,
) -> None:
    recorder, extra = Recorder(), dict[str, Any]()
    restored: datetime | None = None
    try:
        async with (
            broker_setup(tmp_path, "cut") as setup,
            started_worker(setup) as workers,
            watched_readiness(setup.port) as health,
            kafka_tapped(setup.broker.bootstrap, setup.evt, setup.error, recorder) as tap,
            producing(setup.broker.bootstrap) as producer,
        ):
            worker = workers[0]
            up, _ = await health.wait(0, ready, 40, "the worker ready", worker)
            extra["worker_ready_after_start_s"] = rounded(up - health.samples[0][0])
            load = PacedLoad(producer, setup.cmd, recorder, CUT_LOAD)
            loading = asyncio.create_task(load.run())
            try:
                await recorder.wait_until(
                    lambda: len(recorder.sent) >= CUT_AFTER, 20, "commands before the cut"
                )
                extra["answered_before_cut"] = recorder.count(OK)
                lines_at_cut = len(worker.lines)
                fault = recorder.mark(FAULT)
                extra["not_ready_samples_before_cut"] = sum(
                    1 for at, status, _ in health.samples if up <= at < fault and status != 200
                )
                await asyncio.to_thread(setup.cut)
                await asyncio.sleep(OUTAGE_SECONDS - (time.monotonic() - fault))
                await asyncio.to_thread(setup.restore)
                healed = recorder.mark(HEALED)
                restored = datetime.now(UTC)
                extra["worker_log_lines_during_outage"] = len(worker.lines) - lines_at_cut
                unready = health.first(fault, broker_unreachable)
                if unready is not None:
                    extra["cut_to_unready_s"] = rounded(unready[0] - fault)
                    extra["unready_reason"] = next(
                        r for r in unready[1] if r.startswith(BROKER_UNREACHABLE)
                    )
                    extra["ready_samples_while_unready"] = health.count(unready[0], healed, 200)
                back, _ = await health.wait(
                    healed, ready, 20, "ready again after the restore", worker
                )
                extra["time_to_ready_after_recovery_s"] = rounded(back - healed)
                await loading
            finally:
                loading.cancel()
            extra["sent"] = sent_by_phase(recorder)
            extra["producer_failures"] = await settle(recorder, tap, load, 30)
            extra["commands_in_topic"] = await commands_in_topic(setup)
            extra["worker_alive"] = worker.process is not None and worker.process.poll() is None
            extra["worker_started"] = worker.output.count(READY_LINE)
    finally:
        ledger = finish(recorder, "broker-cut-5s", extra, restored)
    assert ledger.lost == 0, ledger.lost_ids
    assert ledger.unexpected_answers == 0
    assert ledger.answered_error == {}, ledger.answered_error
    assert extra["producer_failures"] == 0
    assert all(extra["sent"].values()), extra["sent"]  # before, during and after the cut
    assert "cut_to_unready_s" in extra, "/health/ready never said the broker was unreachable"
    assert extra["cut_to_unready_s"] < OUTAGE_SECONDS
    assert "kafka://" in extra["unready_reason"]
    assert extra["ready_samples_while_unready"] == 0
    assert extra["worker_alive"] and extra["worker_started"] == 1  # no restart


# -- 2. SIGTERM during an outage ------------------------------------------------------------

STOP_LOAD = 900
ANSWERED_BEFORE_CUT = 200
SIGTERM_AFTER_CUT = 0.5
DEADLINE = SHUTDOWN_TIMEOUT + SHUTDOWN_MARGIN_SECONDS
#: The deadline counts from the start of the worker's stop (``HostApp.on_stop``), a little
#: after the signal; process exit and the test's own wait add a little more.
EXIT_SLACK = 1.5


async def test_sigterm_during_a_broker_outage_exits_in_time_and_a_new_worker_answers_the_rest(
    tmp_path: Path,
) -> None:
    recorder, extra = Recorder(), dict[str, Any]()
    restored: datetime | None = None
    try:
        async with (
            broker_setup(tmp_path, "stop") as setup,
            started_worker(setup) as workers,
            watched_readiness(setup.port) as health,
            kafka_tapped(setup.broker.bootstrap, setup.evt, setup.error, recorder) as tap,
            producing(setup.broker.bootstrap) as producer,
        ):
            worker = workers[0]
            up, _ = await health.wait(0, ready, 40, "the worker ready", worker)
            extra["worker_ready_after_start_s"] = rounded(up - health.samples[0][0])
            load = PacedLoad(producer, setup.cmd, recorder, STOP_LOAD)
            loading = asyncio.create_task(load.run())
            try:
                await recorder.wait_until(
                    lambda: recorder.count(OK) >= ANSWERED_BEFORE_CUT, 20, "answers before the cut"
                )
                fault = recorder.mark(FAULT)
                await asyncio.to_thread(setup.cut)
                await asyncio.sleep(SIGTERM_AFTER_CUT - (time.monotonic() - fault))
                extra["sent_before_sigterm"] = len(recorder.sent)
                extra["answered_before_sigterm"] = recorder.count(OK)
                signalled = time.monotonic()
                worker.signal(signal.SIGTERM)
                try:
                    code = await asyncio.to_thread(worker.wait, DEADLINE + 10)
                finally:
                    extra["exit_seconds_after_sigterm"] = rounded(time.monotonic() - signalled)
                extra["exit_code"] = code
                extra["deadline_s"] = DEADLINE
                found = UNCOMMITTED.search(worker.output)
                extra["left_uncommitted"] = int(found.group(1)) if found else None
                extra["stop_line"] = next(
                    (line.strip() for line in worker.lines if UNCOMMITTED.search(line)), None
                )
                extra["meta_path_error"] = "sys.meta_path is None" in worker.output
                extra["tracebacks"] = worker.output.count("Traceback")
                await loading  # sent during the outage: the producer holds them
            finally:
                loading.cancel()
            await asyncio.to_thread(setup.restore)
            healed = recorder.mark(HEALED)
            restored = datetime.now(UTC)
            committed = await asyncio.wait_for(
                committed_offsets(setup.broker.bootstrap, "chaos_stop", setup.cmd), 10
            )
            extra["committed_by_first_worker"] = sum(committed.values())
            workers.append(WorkerProcess(setup.contract, web=True).start())
            back, _ = await health.wait(healed, ready, 40, "the new worker ready", workers[-1])
            extra["new_worker_ready_after_restore_s"] = rounded(back - healed)
            extra["sent"] = sent_by_phase(recorder)
            extra["producer_failures"] = await settle(recorder, tap, load, 30)
            extra["commands_in_topic"] = await commands_in_topic(setup)
    finally:
        ledger = finish(recorder, "sigterm-during-outage", extra, restored)
    assert ledger.lost == 0, ledger.lost_ids
    assert ledger.unexpected_answers == 0
    assert ledger.answered_error == {}, ledger.answered_error
    assert extra["producer_failures"] == 0
    assert extra["exit_code"] == 0
    assert extra["exit_seconds_after_sigterm"] < DEADLINE + EXIT_SLACK
    assert extra["left_uncommitted"] is not None, "the exit did not name what it left uncommitted"
    produced_twice = extra["commands_in_topic"] - len(recorder.sent)
    assert extra["left_uncommitted"] >= ledger.duplicates - produced_twice
    assert not extra["meta_path_error"]
