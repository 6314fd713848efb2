"""Outbound records: the size bound the host checks is never below aiokafka's own."""

from __future__ import annotations

from aiokafka.record.default_records import DefaultRecordBatchBuilder
from hypothesis import given
from hypothesis import strategies as st

from onex_stream.core.errors import EventBusError
from onex_stream.infra.event_bus.records import (
    Origin,
    Outbound,
    dead_letter_record,
    encoded_size,
)

headers = st.lists(st.tuples(st.text(max_size=40), st.binary(max_size=300)), max_size=8)


@given(key=st.none() | st.binary(max_size=300), value=st.none() | st.binary(), headers=headers)
def test_the_size_bound_covers_what_aiokafka_checks_against_max_request_size(
    key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]]
) -> None:
    estimate = DefaultRecordBatchBuilder.estimate_size_in_bytes(key, value, headers)
    assert encoded_size(Outbound("t", key, value, headers)) >= estimate


@given(
    size=st.integers(0, 300_000),
    key_size=st.integers(0, 50_000),
    limit=st.integers(16_384, 100_000),
)
def test_a_dead_letter_always_fits_its_limit_and_keeps_the_head_of_the_value(
    size: int, key_size: int, limit: int
) -> None:
    value, key = b"v" * size, b"k" * key_size
    error = EventBusError("reason " * 1000)  # long reasons are cut too
    record = dead_letter_record("dlq", key, value, error, Origin("cmd", 3, 7), max_bytes=limit)
    assert encoded_size(record) <= limit
    assert value.startswith(record.value or b"")
    truncated = dict(record.headers).get("onex-dlq-truncated") == b"true"
    assert truncated == (record.value != value or record.key != key)
