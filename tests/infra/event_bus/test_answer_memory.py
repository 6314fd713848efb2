"""AnswerMemory: stored answers round-trip byte for byte, expire, and stay bounded."""

from __future__ import annotations

from onex_stream.infra.event_bus.answer_memory import (
    TO_DEAD_LETTERS,
    TO_EVENTS,
    AnswerMemory,
    decode,
    encode,
    expiry_ms,
)
from onex_stream.infra.event_bus.records import Outbound


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def record(n: int, topic: str = "onex.t.a.evt.v1") -> Outbound:
    return Outbound(topic, f"k{n}".encode(), b'{"n": %d}' % n, [("content-type", b"x/y")])


def test_a_stored_answer_decodes_to_the_same_record_for_its_topic() -> None:
    original = Outbound("evt", None, None, [("a", b""), ("\u00e9", b"\x00\xff")])
    stored = encode(original, 123, TO_DEAD_LETTERS)
    assert expiry_ms(stored) == 123
    assert decode(stored, "evt", "dlq") == Outbound("dlq", None, None, original.headers)
    full = record(1)
    assert decode(encode(full, 5, TO_EVENTS), full.topic, "dlq") == full


def test_entries_expire_after_the_window_and_are_swept() -> None:
    clock = Clock()
    memory = AnswerMemory(10, 100, clock)
    memory.store(0, b"a", record(1), TO_EVENTS)
    clock.now += 5
    memory.store(1, b"b", record(2), TO_EVENTS)
    assert memory.get(0, b"a") is not None and memory.get(1, b"a") is None
    clock.now += 6  # a: 11 s old, b: 6 s
    assert memory.get(0, b"a") is None and memory.get(1, b"b") is not None
    assert memory.sweep() == 1 and len(memory) == 1


def test_a_partition_keeps_at_most_max_entries_oldest_first() -> None:
    memory = AnswerMemory(3600, 3, Clock())
    for n in range(5):
        memory.store(0, bytes([n]), record(n), TO_EVENTS)
    memory.store(1, b"x", record(9), TO_EVENTS)
    assert [memory.get(0, bytes([n])) is not None for n in range(5)] == [0, 0, 1, 1, 1]
    assert len(memory) == 4


def test_restore_skips_expired_entries_applies_deletions_and_forget_drops_a_partition() -> None:
    clock = Clock()
    memory = AnswerMemory(10, 100, clock)
    memory.restore(0, b"old", encode(record(1), 999_000, TO_EVENTS))
    memory.restore(0, b"new", encode(record(2), 1_005_000, TO_EVENTS))
    memory.restore(0, b"new", encode(record(2), 1_005_000, TO_EVENTS))  # read twice
    assert len(memory) == 1 and memory.get(0, b"new") is not None
    memory.restore(0, b"new", None)
    assert len(memory) == 0
    memory.restore(2, b"z", encode(record(3), 1_005_000, TO_EVENTS))
    memory.forget(2)
    assert memory.get(2, b"z") is None and len(memory) == 0
