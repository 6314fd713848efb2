"""Scale-out of the runtime host on a real broker (tansu): 1, 2 and 4 workers; joins, leaves, kills.

Run: ``python tests/benchmarks/bench_scale_out.py [--quick] [-n N] [--rounds R] [--rate R]
[--seconds S] [--only scale|scenarios] [--code DIR] [--logs DIR] [--wait-quiet S]``.
Prints figures; asserts nothing. ``--quick``: N=8,000, one round, 12 s scenarios
(default: 40,000, two rounds, 20 s). ``--wait-quiet S``: on a shared machine, wait up to
S seconds before each run for the cores to be idle. ``--code DIR`` runs the workers on
the ``onex_stream`` found in DIR (an export of another commit, ``git archive REV | tar -x
-C DIR``), to compare before and after a change; ``--logs DIR`` keeps the scenarios'
worker logs. One tansu broker (memory storage, loopback) serves the whole run; every run
has fresh topics (8 partitions) and a fresh consumer group with the kafka tests' group
timeouts (``bench_kafka.GROUP_TIMEOUTS``: session 3 s, heartbeat 0.3 s, rebalance 1 s).
Workers are real ``faust -A onex_stream worker`` processes (``tests/support/workers.py``)
with the default in-flight limits.

- scale: N local.echo commands (~440 bytes, ``common.command``) are produced first;
  then 1, 2 or 4 workers start together (interleaved per round, medians). Throughput = N /
  (last answer's CreateTime - the first partition assignment any worker logged). CPU is
  sampled from /proc every 50 ms (workers, broker, this process, the whole machine) and
  taken over that same window: CPU per envelope = workers' CPU / N; the broker's share in
  cores; the cores' share = the machine's busy time / (window x cores) (``others`` is what
  neither the workers, the broker nor this process used: other users of the machine). The
  run ends when the group committed N offsets (an OffsetFetch every 0.25 s; no consumer
  reads answers during the run); the answers are read afterwards, duplicates counted.
  "assignments per worker" > 1 or a wide JoinGroup spread means the workers did not all
  join the first generation (a rebalance inside the measured window).
- join: one worker answers a paced stream (``--rate`` commands/s, ``--seconds`` long); a
  second worker starts at a quarter of it. leave: two workers (the second started once the
  first was ready: tansu numbers the first generation 0, and aiokafka sends no LeaveGroup
  from generation 0) answer the stream, one gets SIGTERM at 40% of it. kill: the same with
  SIGKILL. For each: duplicate answers (answers beyond the first per causation_id; also
  counted among envelopes first answered before the first revoke), the longest pause of
  all answers (by CreateTime), the longest pause of each partition that changed owner and
  when it was answered again, and each member's rebalance steps from its log (heartbeat
  told of the rebalance, revoke callback, JoinGroup sent, JoinGroup answered, SyncGroup
  answered, streams resumed). The broker's own rebalance time = the last SyncGroup answer
  - the last JoinGroup sent: how long the broker held the group once every member had
  asked to join (tansu holds each JoinGroup ~2 s with a 3 s session timeout, and answers
  a follower's SyncGroup up to ~1 s after the leader's).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.benchmarks.bench_kafka import GROUP_TIMEOUTS, NODE, RUNTIME, log
from tests.benchmarks.common import command
from tests.support.kafka import TansuBroker
from tests.support.kafka_clients import AnswerReader, create_topics, produce
from tests.support.scale_out import (
    STEPS,
    AnswerTimeline,
    Command,
    CpuSampler,
    SteadyStream,
    assignments,
    first_step,
    latest_assignment,
    read_settled,
    step_times,
    wait_committed,
    wait_split,
)
from tests.support.workers import WorkerProcess

PARTITIONS = 8
WORKER_COUNTS = (1, 2, 4)
CORES = psutil.cpu_count() or 1
SESSION_TIMEOUT = GROUP_TIMEOUTS["session_timeout_ms"] / 1000


@dataclass
class Group:
    """One run's topics, consumer group and worker contract."""

    bootstrap: str
    tag: str
    contract: Path
    code: Path | None  # run the workers on the onex_stream found here

    @property
    def cmd(self) -> str:
        return f"onex.{self.tag}.orders.cmd.v1"

    @property
    def evt(self) -> str:
        return f"onex.{self.tag}.orders.evt.v1"

    def worker(self) -> WorkerProcess:
        """A started worker of the group."""
        if self.code is None:
            return WorkerProcess(self.contract).start()
        return WorkerProcess(self.contract, cwd=self.code, PYTHONPATH=str(self.code)).start()


async def new_group(bootstrap: str, kind: str, tmp: Path, code: Path | None) -> Group:
    """Fresh topics (8 partitions) and a worker contract for a fresh consumer group."""
    tag = f"{kind}{uuid.uuid4().hex[:8]}"
    names = [f"onex.{tag}.orders.{signal}.v1" for signal in ("cmd", "evt", "error")]
    await create_topics(bootstrap, names, PARTITIONS)
    config = {
        "bootstrap_servers": bootstrap,
        "topics": {"input": names[0]},
        "partitions": PARTITIONS,
        "create_topics": False,
        "idempotence": False,  # tansu has no InitProducerId
        **GROUP_TIMEOUTS,
    }
    (tmp / "echo_compute.yaml").write_text(NODE)
    contract = tmp / "host.yaml"
    contract.write_text(RUNTIME.format(name=f"bench_scale_{tag}", config=json.dumps(config)))
    return Group(bootstrap, tag, contract, code)


def echo(n: int) -> Command:
    """One ~440-byte local.echo command, with its envelope_id."""
    key, value = command(n)
    return json.loads(value)["envelope_id"], key, value


def broker_pid(broker: TansuBroker) -> int:
    """The tansu process (a child of this one, listening on the broker's port)."""
    for child in psutil.Process().children(recursive=True):
        if f"tcp://127.0.0.1:{broker.port}" in child.cmdline():
            return child.pid
    raise RuntimeError("tansu process not found")


def wait_quiet(busy: float, seconds: float) -> None:
    """On a shared machine: wait (at most ``seconds``) until the cores are less than
    ``busy`` busy over 3 s."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        share = psutil.cpu_percent(interval=3) / 100
        if share < busy:
            return
        log(f"    machine {share:.0%} busy: waiting")
    log("    still busy: running anyway (see 'others')")


def stop_all(workers: list[WorkerProcess]) -> None:
    for worker in workers:
        worker.stop()


# -- scale: 1, 2, 4 workers on pre-produced commands ------------------------------------------


@dataclass
class Scale:
    """One run of ``workers`` workers over N pre-produced commands."""

    workers: int
    rate: float
    cpu_us: float  # workers' CPU per envelope
    broker_cores: float
    shares: dict[str, float]  # of the cores: machine, workers, broker, bench, others
    duplicates: int
    generations: int  # assignments per worker during the run, at most
    join_spread: float  # first JoinGroup sent: last - first worker


async def scale(broker: TansuBroker, k: int, n: int, code: Path | None) -> Scale:
    with tempfile.TemporaryDirectory() as tmp:
        group = await new_group(broker.bootstrap, f"scale{k}w", Path(tmp), code)
        made = [echo(i) for i in range(n)]
        keys = [key for _, key, _ in made]
        await produce(broker.bootstrap, group.cmd, [value for *_, value in made], keys)
        workers: list[WorkerProcess] = []
        try:
            workers += [group.worker() for _ in range(k)]
            pids = {f"worker{i}": w.process.pid for i, w in enumerate(workers) if w.process}
            pids |= {"broker": broker_pid(broker), "bench": os.getpid()}
            sampler = CpuSampler(pids).start()
            try:
                name = f"bench_scale_{group.tag}"
                await wait_committed(broker.bootstrap, name, group.cmd, PARTITIONS, n, 600)
            finally:
                sampler.stop()
            async with AnswerReader(broker.bootstrap, group.evt) as reader:
                await read_settled(reader, {eid for eid, _, _ in made}, seconds=120)
        finally:
            stop_all(workers)
    timeline = AnswerTimeline(reader.records)
    end = timeline.last()
    start = min(assignments(w, group.cmd)[0][0] for w in workers)
    wall = end - start
    cpu = sampler.between(start, end)
    workers_cpu = sum(cpu[name] for name in cpu if name.startswith("worker"))
    others = cpu["machine"] - workers_cpu - cpu["broker"] - cpu["bench"]
    shares = {
        "machine": cpu["machine"],
        "workers": workers_cpu,
        "broker": cpu["broker"],
        "bench": cpu["bench"],
        "others": others,
    }
    joins = [step_times(w, "rejoin")[0] for w in workers]
    return Scale(
        workers=k,
        rate=n / wall,
        cpu_us=workers_cpu / n * 1e6,
        broker_cores=cpu["broker"] / wall,
        shares={key: value / (wall * CORES) for key, value in shares.items()},
        duplicates=timeline.duplicates(),
        generations=max(
            len([a for a in assignments(w, group.cmd) if a[0] <= end]) for w in workers
        ),
        join_spread=max(joins) - min(joins),
    )


def report_scale(args: argparse.Namespace, runs: dict[int, list[Scale]]) -> None:
    print(
        f"scale: {args.n:,} pre-produced envelopes of ~440 bytes, {PARTITIONS} partitions, "
        f"workers started together, {CORES} cores, median of {args.rounds} interleaved round(s)"
    )
    one = statistics.median(r.rate for r in runs[1])
    # what one worker's run used (workers, broker, this process), in cores
    used = [(r.shares["machine"] - r.shares["others"]) * CORES for r in runs[1]]
    for k, results in runs.items():
        rate = statistics.median(r.rate for r in results)
        shares = {
            key: statistics.median(r.shares[key] for r in results) for key in results[0].shares
        }
        print(
            f"  {k} worker(s): {rate:8,.0f} envelopes/s ({rate / one:.2f}x one)"
            f"  CPU/envelope {statistics.median(r.cpu_us for r in results):5.0f} us"
            f"  broker {statistics.median(r.broker_cores for r in results):.2f} core"
            f"  cores' share {shares['machine']:.2f} (workers {shares['workers']:.2f}, "
            f"broker {shares['broker']:.2f}, bench {shares['bench']:.2f}, "
            f"others {shares['others']:.2f})"
        )
        paired = [round(r.rate / o.rate, 2) for r, o in zip(results, runs[1], strict=True)]
        free = [(1 - r.shares["others"]) * CORES / u for r, u in zip(results, used, strict=True)]
        print(
            f"      per round {paired}; the cores left by others allow at most "
            f"{statistics.median(free):.2f}x one (cores free / cores one worker's run used)"
        )
        print(
            f"      runs {[round(r.rate) for r in results]}"
            f"  duplicates {[r.duplicates for r in results]}"
            f"  assignments per worker {[r.generations for r in results]}"
            f"  JoinGroup spread {[round(r.join_spread, 2) for r in results]} s"
        )


# -- join, leave, kill: a paced stream through a rebalance --------------------------------


def steps(worker: WorkerProcess, since: float, origin: float) -> str:
    """The worker's rebalance steps after ``since``, in seconds from ``origin``."""
    parts = []
    for step, label in (
        ("notified", "heartbeat: rebalancing"),
        ("revoke", "revoke"),
        ("rejoin", "JoinGroup sent"),
        ("joined", "joined"),
        ("synced", "synced"),
        ("ready", "resumed"),
    ):
        when = first_step(worker, step, since)
        if when is not None:
            parts.append(f"{label} {when - origin:+.2f}")
            since = when
    return ", ".join(parts)


def rebalance_lines(members: dict[str, WorkerProcess], origin: float, what: str) -> list[str]:
    """Each member's steps and the broker's own rebalance time."""
    lines = [f"    {name}: {steps(w, origin, origin)}" for name, w in members.items()]
    rejoins = {name: first_step(w, "rejoin", origin) for name, w in members.items()}
    synced = [first_step(members[name], "synced", t) for name, t in rejoins.items() if t]
    if len(synced) == len(members) and all(synced):
        held = max(t for t in synced if t) - max(t for t in rejoins.values() if t)
        lines.append(f"    broker's rebalance (last JoinGroup sent -> last synced): {held:.2f} s")
    return [f"  steps, s from {what}:", *lines]


def outcome(
    timeline: AnswerTimeline, stream: SteadyStream, revoked: float | None, origin: float
) -> str:
    """Duplicates and the longest pause of all answers."""
    pause, at = timeline.longest_gap(stream.started + 0.5, stream.stopped)
    before = timeline.duplicates(answered_before=revoked) if revoked else 0
    return (
        f"  {len(stream.ids):,} envelopes: {timeline.duplicates()} duplicate answers "
        f"({before} of envelopes answered before the first revoke); longest pause of all "
        f"answers {pause:.2f} s, from {at - origin:+.2f} to {at + pause - origin:+.2f}"
    )


def moved_lines(
    timeline: AnswerTimeline, stream: SteadyStream, moved: set[int], origin: float, whose: str
) -> list[str]:
    """The longest pause each moved partition saw, and when they were answered again."""
    pauses, again = [], []
    for partition in sorted(moved):
        ids = {eid for eid, p in stream.partitions.items() if p == partition}
        pauses.append(timeline.longest_gap(stream.started + 0.5, stream.stopped, ids))
        answered = [t for t, eid in timeline.entries if eid in ids and t > pauses[-1][1]]
        again.append(answered[0] if answered else float("inf"))
    longest = max(pauses)
    return [
        f"  {whose} partitions {sorted(moved)}: longest pause {min(pauses)[0]:.2f}-"
        f"{longest[0]:.2f} s (the longest from {longest[1] - origin:+.2f}); answered again "
        f"at {min(again) - origin:+.2f} to {max(again) - origin:+.2f}"
    ]


def save_logs(logs: Path | None, name: str, workers: dict[str, WorkerProcess]) -> None:
    if logs is not None:
        logs.mkdir(parents=True, exist_ok=True)
        for who, worker in workers.items():
            (logs / f"{name}-{who}.log").write_text(worker.output)


async def join(
    bootstrap: str, rate: float, seconds: float, code: Path | None, logs: Path | None
) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        group = await new_group(bootstrap, "join", Path(tmp), code)
        workers = [group.worker()]
        try:
            await asyncio.to_thread(workers[0].wait_ready, 60)
            stream = await SteadyStream(bootstrap, group.cmd, rate, echo).start()
            try:
                await asyncio.sleep(seconds / 4)
                started = time.time()
                workers.append(group.worker())
                await asyncio.to_thread(workers[1].wait_for, STEPS["ready"], 60)
                await asyncio.sleep(max(3.0, stream.started + seconds - time.time()))
            finally:
                await stream.stop()
            async with AnswerReader(bootstrap, group.evt) as reader:
                await read_settled(reader, stream.expected, seconds=120)
        finally:
            stop_all(workers)
    first, second = workers
    save_logs(logs, "join", {"first": first, "newcomer": second})
    origin = first_step(second, "rejoin", started) or started
    timeline = AnswerTimeline(reader.records)
    moved = latest_assignment(second, group.cmd)
    return [
        f"join: one worker answering {rate:,.0f} commands/s; a second one starts and sends "
        f"its JoinGroup (t=0) {origin - started:.1f} s later",
        outcome(timeline, stream, first_step(first, "revoke", origin), origin),
        *moved_lines(timeline, stream, moved, origin, "the newcomer's"),
        *rebalance_lines({"first": first, "newcomer": second}, origin, "its JoinGroup"),
    ]


async def depart(
    bootstrap: str,
    rate: float,
    seconds: float,
    code: Path | None,
    logs: Path | None,
    sig: signal.Signals,
) -> list[str]:
    kind = "leave" if sig == signal.SIGTERM else "kill"
    with tempfile.TemporaryDirectory() as tmp:
        group = await new_group(bootstrap, kind, Path(tmp), code)
        workers = [group.worker()]
        try:
            # one after the other: tansu numbers the first generation 0, and aiokafka sends
            # no LeaveGroup from generation 0 (the broker would wait for the session timeout)
            await asyncio.to_thread(workers[0].wait_ready, 60)
            workers.append(group.worker())
            await wait_split(workers, group.cmd, PARTITIONS, seconds=90)
            stream = await SteadyStream(bootstrap, group.cmd, rate, echo).start()
            try:
                await asyncio.sleep(seconds * 0.4)
                moved = latest_assignment(workers[1], group.cmd)
                origin = time.time()
                workers[1].signal(sig)
                exit_code = await asyncio.to_thread(workers[1].wait, 60)
                exited = time.time() - origin
                await asyncio.sleep(max(3.0, stream.started + seconds - time.time()))
            finally:
                await stream.stop()
            async with AnswerReader(bootstrap, group.evt) as reader:
                await read_settled(reader, stream.expected, seconds=120)
        finally:
            stop_all(workers)
    staying, gone = workers
    save_logs(logs, kind, {"staying": staying, "departed": gone})
    timeline = AnswerTimeline(reader.records)
    generation = re.findall(r"\(generation (\d+)\)", gone.output)[-1:]
    left = "LeaveGroup sent" if "LeaveGroup request succeeded" in gone.output else "no LeaveGroup"
    title = {
        "leave": f"leave: two workers answering {rate:,.0f} commands/s, one gets SIGTERM (t=0): "
        f"exited {exited:.2f} s later (code {exit_code}), {left} (generation {generation})",
        "kill": f"kill: two workers answering {rate:,.0f} commands/s, one gets SIGKILL (t=0); "
        f"session timeout {SESSION_TIMEOUT:g} s",
    }[kind]
    return [
        title,
        outcome(timeline, stream, first_step(staying, "revoke", origin), origin),
        *moved_lines(timeline, stream, moved, origin, "the departed worker's"),
        *rebalance_lines({"staying": staying}, origin, "the signal"),
    ]


# -- main ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="N=8,000, one round, 12 s")
    parser.add_argument("-n", type=int, help="pre-produced envelopes per scale run (40,000)")
    parser.add_argument("--rounds", type=int, help="interleaved scale rounds (2)")
    parser.add_argument("--rate", type=float, default=1000, help="paced commands/s (1,000)")
    parser.add_argument("--seconds", type=float, help="paced stream length (20)")
    parser.add_argument("--code", type=Path, help="run the workers on the onex_stream in DIR")
    parser.add_argument("--only", choices=["scale", "scenarios"], help="one part only")
    parser.add_argument("--broker-log", type=Path, help="write tansu's log to this file")
    parser.add_argument("--logs", type=Path, help="write the scenarios' worker logs here")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0,
        metavar="SECONDS",
        help="before each run, wait up to SECONDS for the cores to be < 10%% busy",
    )
    args = parser.parse_args()
    args.n = args.n or (8_000 if args.quick else 40_000)
    args.rounds = args.rounds or (1 if args.quick else 2)
    args.seconds = args.seconds or (12 if args.quick else 20)
    code = args.code.resolve() if args.code else None
    print(f"workers' code: {code or 'this checkout'}; tansu (memory storage), loopback")
    broker = TansuBroker(log_path=args.broker_log).start()
    try:
        if args.only != "scenarios":
            runs: dict[int, list[Scale]] = {k: [] for k in WORKER_COUNTS}
            for round_ in range(1, args.rounds + 1):
                for k in WORKER_COUNTS:
                    log(f"  round {round_}: {k} worker(s)...")
                    wait_quiet(0.1, args.wait_quiet)
                    runs[k].append(asyncio.run(scale(broker, k, args.n, code)))
                    log(f"    {runs[k][-1].rate:,.0f} envelopes/s")
            report_scale(args, runs)
        if args.only != "scale":
            paced = (broker.bootstrap, args.rate, args.seconds, code, args.logs)
            for name in ("join", "leave", "kill"):
                log(f"  {name}...")
                wait_quiet(0.1, args.wait_quiet)
                if name == "join":
                    lines = asyncio.run(join(*paced))
                else:
                    sig = signal.SIGTERM if name == "leave" else signal.SIGKILL
                    lines = asyncio.run(depart(*paced, sig))
                print("\n".join(lines), flush=True)
    finally:
        broker.stop()


if __name__ == "__main__":
    main()
