"""``omninode-runtime-host-dev CONTRACT [--input PATH|-]``: the dev/test runtime host.

Refuses ``ONEX_ENV=prod`` (and defaults ``ONEX_ENV`` to dev). Without ``--input`` it
runs like ``omnibase-runtime-host``. With ``--input`` it runs in process on the
in-memory transport: every JSON line of PATH goes to the first command topic,
every response envelope and dead letter is written to stdout as one JSON line,
and it exits 0 once every input is answered (its offset committed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path
from typing import IO, Any

from onex_stream.bootstrap import build_host
from onex_stream.cli.host import run_worker
from onex_stream.core.contracts import ModelSubscription
from onex_stream.core.errors import RuntimeHostError
from onex_stream.infra.event_bus.memory import MemoryBroker, Record, get_broker
from onex_stream.infra.event_bus.records import DLQ_HEADER_PREFIX
from onex_stream.infra.runtime.host import RuntimeHost

BROKER_URL = "memory://dev-cli"
DEV_BUS = {
    "broker_url": BROKER_URL,
    "web_enabled": False,
    "faust_options": {"broker_commit_interval": 0.05},
}


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit code."""
    parser = argparse.ArgumentParser(prog="omninode-runtime-host-dev", description=__doc__)
    parser.add_argument("contract", help="runtime host contract (YAML)")
    parser.add_argument("--input", help="JSON lines to feed to the command topic ('-' = stdin)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait (--input)")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    if os.environ.setdefault("ONEX_ENV", "dev").lower() == "prod":
        print("omninode-runtime-host-dev refuses to run with ONEX_ENV=prod", file=sys.stderr)
        return 1
    print("WARNING: dev/test runtime host; never use it in production", file=sys.stderr)
    if args.input is None:
        return run_worker(args.contract, args.log_level, None, human_logs=True)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr)
    lines = _read_lines(sys.stdin if args.input == "-" else Path(args.input))
    try:
        host = build_host(args.contract, bus_overrides=DEV_BUS, logs="human")
    except RuntimeHostError as error:
        print(f"cannot start: {error.message}", file=sys.stderr)
        return 1
    return asyncio.run(feed(host, lines, args.timeout, sys.stdout))


async def feed(host: RuntimeHost, lines: list[bytes], seconds: float, out: IO[str]) -> int:
    """Feed ``lines`` to the host, print every answer, return 0 once all are answered."""
    broker = get_broker(BROKER_URL)
    subscription = host.definition.contract.runtime.subscriptions[0]
    await host.bus.start_consuming()
    try:
        origins = [broker.append(subscription.input, line, key=_key(line)) for line in lines]
        group = host.definition.contract.runtime.consumer_group
        await broker.wait_until(lambda: _all_committed(broker, group, subscription.input), seconds)
    except TimeoutError:
        print(f"not every input was answered within {seconds} s", file=sys.stderr)
        return 1
    finally:
        await host.bus.shutdown()
    for _, line in sorted(_answers(broker, subscription, origins, lines)):
        out.write(line + "\n")
    return 0


def _answers(
    broker: MemoryBroker,
    subscription: ModelSubscription,
    origins: list[tuple[int, int]],
    lines: list[bytes],
) -> list[tuple[int, str]]:
    """Every response and dead letter as a JSON line, with the index of its input."""
    by_origin = {origin: index for index, origin in enumerate(origins)}
    by_envelope_id = {_field(line, "envelope_id"): index for index, line in enumerate(lines)}
    answers = []
    for record in _all_records(broker, subscription.event_topic):
        causation = _field(record.value or b"", "causation_id")
        answers.append((by_envelope_id.get(causation, len(lines)), (record.value or b"").decode()))
    for record in _all_records(broker, subscription.dead_letter_topic):
        letter = _dead_letter(record)
        index = by_origin.get((int(letter["partition"]), int(letter["offset"])), len(lines))
        answers.append((index, json.dumps({"dead_letter": letter})))
    return answers


def _read_lines(source: IO[str] | Path) -> list[bytes]:
    text = source.read_text(encoding="utf-8") if isinstance(source, Path) else source.read()
    return [line.strip().encode() for line in text.splitlines() if line.strip()]


def _field(line: bytes, name: str) -> str | None:
    try:
        value = json.loads(line).get(name)
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _key(line: bytes) -> bytes | None:
    correlation_id = _field(line, "correlation_id")
    return correlation_id.encode() if correlation_id else None


def _all_committed(broker: MemoryBroker, group: str, topic: str) -> bool:
    committed = broker.committed(group, topic)
    return all((committed[p] or 0) >= end for p, end in broker.end_offsets(topic).items())


def _all_records(broker: MemoryBroker, topic: str) -> list[Record]:
    partitions = broker.partitions_for(topic) or 0
    return [r for p in range(partitions) for r in broker.records(topic, p)]


def _dead_letter(record: Record) -> dict[str, Any]:
    context = {
        k[len(DLQ_HEADER_PREFIX) :]: v.decode()
        for k, v in record.headers
        if k.startswith(DLQ_HEADER_PREFIX)
    }
    value = record.value or b""
    return {"topic": record.topic, **context, "value": value.decode(errors="replace")}


if __name__ == "__main__":
    sys.exit(main())
