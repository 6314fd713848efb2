"""Feeding JSON lines to an in-process host on memory:// and collecting every answer."""

from __future__ import annotations

import json
from typing import Any

from onex_stream.core.contracts import ModelSubscription
from onex_stream.infra.event_bus.memory import MemoryBroker, Record
from onex_stream.infra.event_bus.records import DLQ_HEADER_PREFIX
from onex_stream.infra.runtime.host import RuntimeHost


async def answer_lines(
    host: RuntimeHost, broker: MemoryBroker, lines: list[bytes], seconds: float
) -> list[str]:
    """Append ``lines`` to the host's first command topic; once every one is answered
    (its offset committed), every response and dead letter as a JSON line, in input
    order. The host must be consuming; raises TimeoutError after ``seconds``."""
    subscription = host.definition.contract.runtime.subscriptions[0]
    origins = [broker.append(subscription.input, line, key=_key(line)) for line in lines]
    group = host.definition.contract.runtime.consumer_group
    await broker.wait_until(lambda: _all_committed(broker, group, subscription.input), seconds)
    return [line for _, line in sorted(_answers(broker, subscription, origins, lines))]


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
