"""AnswerMemory: answers by envelope_id per partition, expiring, bounded; and their bytes.

An entry is the answer record exactly as it was produced (destination, key, headers,
value) behind its expiry time, in one ``bytes`` object: the same bytes are the table's
changelog value, so recovery rebuilds the entry without decoding it, and a replay
publishes the very same record again.
"""

from __future__ import annotations

import struct
from collections import deque
from collections.abc import Callable

from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.errors import EnumErrorCode
from onex_stream.infra.event_bus.records import Headers, Outbound

#: expiry (ms since the epoch), destination (0 event topic, 1 dead-letter topic), key length
_HEAD = struct.Struct(">qBi")
_COUNT = struct.Struct(">H")
_HEADER = struct.Struct(">HI")
_LENGTH = struct.Struct(">i")
TO_EVENTS, TO_DEAD_LETTERS = 0, 1

#: Answers given before any handler ran: a replay may run again, nothing happened yet.
NOT_EXECUTED = frozenset(
    code.value
    for code in (
        EnumErrorCode.ENVELOPE_VALIDATION_ERROR,
        EnumErrorCode.ENVELOPE_EXPIRED,
        EnumErrorCode.NODE_NOT_FOUND,
        EnumErrorCode.HANDLER_NOT_FOUND,
        EnumErrorCode.INVALID_OPERATION,
        EnumErrorCode.OPERATION_NOT_ALLOWED,
    )
)


def worth_remembering(response: ModelOnexEnvelope) -> bool:
    """Whether a handler may have run for this answer (else there is nothing to protect)."""
    return response.error is None or response.error.code not in NOT_EXECUTED


def encode(record: Outbound, expires_ms: int, destination: int) -> bytes:
    """The stored form of an answer record."""
    key = record.key
    parts = [_HEAD.pack(expires_ms, destination, -1 if key is None else len(key))]
    if key is not None:
        parts.append(key)
    parts.append(_COUNT.pack(len(record.headers)))
    for name, value in record.headers:
        raw = name.encode()
        parts += [_HEADER.pack(len(raw), len(value)), raw, value]
    body = record.value
    parts.append(_LENGTH.pack(-1 if body is None else len(body)))
    if body is not None:
        parts.append(body)
    return b"".join(parts)


def expiry_ms(stored: bytes) -> int:
    """When a stored answer expires (ms since the epoch)."""
    expires: int = _HEAD.unpack_from(stored)[0]
    return expires


def decode(stored: bytes, event_topic: str, dead_letter_topic: str) -> Outbound:
    """The answer record a stored answer holds, bound for its topic."""
    _, destination, key_length = _HEAD.unpack_from(stored)
    at = _HEAD.size
    key = None if key_length < 0 else stored[at : at + key_length]
    at += max(key_length, 0)
    (count,) = _COUNT.unpack_from(stored, at)
    at += _COUNT.size
    headers: Headers = []
    for _ in range(count):
        name_length, value_length = _HEADER.unpack_from(stored, at)
        at += _HEADER.size
        name = stored[at : at + name_length].decode()
        at += name_length
        headers.append((name, stored[at : at + value_length]))
        at += value_length
    (value_length,) = _LENGTH.unpack_from(stored, at)
    at += _LENGTH.size
    value = None if value_length < 0 else stored[at : at + value_length]
    topic = dead_letter_topic if destination == TO_DEAD_LETTERS else event_topic
    return Outbound(topic, key, value, headers)


class AnswerMemory:
    """Stored answers by key (the envelope_id's 16 bytes), one insertion-ordered store per
    partition.

    An entry counts until its expiry (``clock`` is read in seconds). Expired entries are
    dropped from the front of each partition's order as new ones arrive (``sweep`` drops
    them in idle partitions too); beyond ``max_entries`` per partition the oldest go first.
    """

    def __init__(self, window_seconds: float, max_entries: int, clock: Callable[[], float]) -> None:
        self.window_ms = int(window_seconds * 1000)
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[int, dict[bytes, bytes]] = {}
        self._order: dict[int, deque[bytes]] = {}

    def __len__(self) -> int:
        return sum(len(entries) for entries in self._entries.values())

    def now_ms(self) -> int:
        """The clock, in ms."""
        return int(self.clock() * 1000)

    def get(self, partition: int, key: bytes) -> bytes | None:
        """The stored answer of ``key`` in ``partition``, unless absent or expired."""
        entries = self._entries.get(partition)
        stored = entries.get(key) if entries is not None else None
        if stored is None or expiry_ms(stored) <= self.now_ms():
            return None
        return stored

    def store(self, partition: int, key: bytes, record: Outbound, destination: int) -> bytes:
        """Remember an answer produced now; its stored form."""
        now = self.now_ms()
        stored = encode(record, now + self.window_ms, destination)
        self._put(partition, key, stored, now)
        return stored

    def restore(self, partition: int, key: bytes, stored: bytes | None) -> None:
        """Apply one changelog record (``None``: a deletion); expired entries are skipped."""
        if stored is None:
            entries = self._entries.get(partition)
            if entries is not None:
                entries.pop(key, None)
            return
        now = self.now_ms()
        if expiry_ms(stored) > now:
            self._put(partition, key, stored, now)

    def forget(self, partition: int) -> None:
        """Drop a partition (revoked: its next owner restores it from the changelog)."""
        self._entries.pop(partition, None)
        self._order.pop(partition, None)

    def sweep(self) -> int:
        """Drop expired entries of every partition; how many were dropped."""
        now = self.now_ms()
        return sum(self._trim(partition, now) for partition in list(self._entries))

    def _put(self, partition: int, key: bytes, stored: bytes, now: int) -> None:
        entries = self._entries.get(partition)
        if entries is None:
            entries = self._entries[partition] = {}
            self._order[partition] = deque()
        if key not in entries:
            self._order[partition].append(key)
        entries[key] = stored
        self._trim(partition, now)

    def _trim(self, partition: int, now: int) -> int:
        """Drop the expired head of a partition's order, and its oldest beyond the cap."""
        entries, order = self._entries[partition], self._order[partition]
        dropped = 0
        while order:
            head = order[0]
            stored = entries.get(head)
            if stored is not None and len(entries) <= self.max_entries and expiry_ms(stored) > now:
                break
            order.popleft()
            if stored is not None:
                del entries[head]
                dropped += 1
        return dropped
