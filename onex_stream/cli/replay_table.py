"""What ``omnibase-runtime-replay`` prints: the dead letters it found and what it re-sent."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from onex_stream.infra.event_bus.kafka.dead_letters import DeadLetter, Resent

REASON_WIDTH = 48
KEY_WIDTH = 38


def table(letters: Sequence[DeadLetter]) -> list[str]:
    """One row per dead letter: partition, offset, reason, original topic, size, key."""
    several = len({letter.topic for letter in letters}) > 1
    rows = [
        [
            *([letter.topic] if several else []),
            str(letter.partition),
            str(letter.offset),
            _cut(letter.reason, REASON_WIDTH),
            letter.original_topic or "-",
            _size(letter),
            _cut(_text(letter.key), KEY_WIDTH),
        ]
        for letter in letters
    ]
    header = [*(["topic"] if several else []), "partition", "offset", "reason",
              "original topic", "size", "key"]  # fmt: skip
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    topics = ", ".join(sorted({letter.topic for letter in letters}))
    lines = [f"{len(letters)} dead letter(s) on {topics}:"]
    for row in [header, *rows]:
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
    return [line.rstrip() for line in lines]


def confirmation_question(letters: Sequence[DeadLetter]) -> str:
    """Re-send how many records, to which topics."""
    counts = Counter(letter.original_topic for letter in letters)
    where = ", ".join(f"{count} to {topic}" for topic, count in sorted(counts.items()))
    return f"Re-send {len(letters)} record(s) ({where})?"


def resent_lines(results: Sequence[Resent]) -> tuple[list[str], int]:
    """One line per re-sent record (and per failure); the number of failures."""
    lines = []
    failed = 0
    for result in results:
        letter = result.letter
        origin = f"partition {letter.partition} offset {letter.offset}"
        if result.error is not None:
            failed += 1
            lines.append(f"FAILED {origin}: {result.error}")
        else:
            lines.append(f"re-sent {origin} -> {letter.original_topic} "
                         f"partition {result.partition} offset {result.offset}")  # fmt: skip
    lines.append(f"{len(results) - failed} re-sent, {failed} failed")
    return lines, failed


def _size(letter: DeadLetter) -> str:
    kept = len(letter.value or b"")
    return f"{kept} of {letter.header('original-size')}" if letter.truncated else str(kept)


def _text(data: bytes | None) -> str:
    if data is None:
        return "-"
    try:
        return data.decode()
    except UnicodeDecodeError:
        return data.hex()


def _cut(text: str, width: int) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 3] + "..."
