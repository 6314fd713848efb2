"""JSON logs carry the ids of the envelope being handled; secrets never reach them."""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from uuid import UUID

import pytest

from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.infra.observability.log_context import ContextFilter, envelope_context
from onex_stream.infra.observability.logging_setup import HumanFormatter, json_formatter
from onex_stream.infra.observability.redaction import RedactionFilter, redact

logger = logging.getLogger("onex_stream.test.handler")


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Records of every logger, formatted as the host formats them (JSON lines)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    handler.addFilter(ContextFilter("runtime-1"))
    handler.addFilter(RedactionFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    previous, root.level = root.level, logging.DEBUG
    yield stream
    root.removeHandler(handler)
    root.setLevel(previous)


def envelope(n: int) -> ModelOnexEnvelope:
    return ModelOnexEnvelope.model_validate(
        {
            "envelope_id": str(UUID(int=n)),
            "correlation_id": str(UUID(int=100 + n)),
            "source_node": "client",
            "handler_type": "http",
            "operation": "http.get",
        }
    )


def lines(stream: io.StringIO) -> list[dict]:
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [r for r in records if r["logger"] == logger.name]


async def test_records_carry_the_ids_of_the_envelope_being_handled(captured: io.StringIO) -> None:
    with envelope_context(envelope(1), "user_service_effect"):
        logger.info("calling upstream")
    logger.info("outside any envelope")
    inside, outside = lines(captured)
    assert inside["message"] == "calling upstream"
    assert {
        k: inside[k]
        for k in (
            "runtime_id",
            "node_id",
            "handler_type",
            "envelope_id",
            "correlation_id",
            "level",
            "logger",
        )
    } == {
        "runtime_id": "runtime-1",
        "node_id": "user_service_effect",
        "handler_type": "http",
        "envelope_id": str(UUID(int=1)),
        "correlation_id": str(UUID(int=101)),
        "level": "INFO",
        "logger": "onex_stream.test.handler",
    }
    assert "timestamp" in inside
    assert outside["runtime_id"] == "runtime-1" and "envelope_id" not in outside


async def test_two_envelopes_handled_concurrently_do_not_mix_ids(captured: io.StringIO) -> None:
    first_logged, second_logged = asyncio.Event(), asyncio.Event()

    async def handle(n: int, mine: asyncio.Event, other: asyncio.Event) -> None:
        with envelope_context(envelope(n), f"node_{n}"):
            logger.info("start %s", n)
            mine.set()
            await other.wait()
            logger.info("end %s", n)

    await asyncio.gather(
        handle(1, first_logged, second_logged), handle(2, second_logged, first_logged)
    )
    records = lines(captured)
    assert len(records) == 4
    for record in records:
        n = int(record["message"].split()[-1])
        assert record["envelope_id"] == str(UUID(int=n))
        assert record["node_id"] == f"node_{n}"


@pytest.mark.parametrize(
    ("message", "secret"),
    [
        ("connecting to postgresql://onex:s3cr3t-pw@db:5432/orders", "s3cr3t-pw"),
        ("headers {'Authorization': 'Bearer tok-123456'}", "tok-123456"),
        ("retrying with password=hunter2 and api_key: abc-987", "hunter2"),
        ("retrying with password=hunter2 and api_key: abc-987", "abc-987"),
        ("GET https://user:pa55@example.com/x?token=qwerty", "pa55"),
        ("GET https://user:pa55@example.com/x?token=qwerty", "qwerty"),
    ],
)
def test_planted_secrets_never_appear_in_captured_logs(
    captured: io.StringIO, message: str, secret: str
) -> None:
    logger.warning(message)
    logger.error("failed: %s", message)
    assert secret not in captured.getvalue()
    assert "***" in captured.getvalue()


def test_line_breaks_cannot_forge_log_lines(captured: io.StringIO) -> None:
    logger.warning("user said %s", 'ok\n{"level": "INFO", "message": "forged"}')
    assert len(lines(captured)) == 1
    assert redact("a\r\nb") == "a\\r\\nb"


def test_human_format_shows_the_context() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    record.correlation_id = "c-1"
    assert HumanFormatter().format(record).endswith("x: hello [correlation_id=c-1]")


def test_a_message_that_cannot_be_rendered_is_replaced_not_raised_nor_leaked(
    captured: io.StringIO,
) -> None:
    class Unprintable:
        def __str__(self) -> str:
            raise ImportError("sys.meta_path is None, Python is likely shutting down")

    logger.warning("token=%s and %s", "s3cr3t-value", Unprintable())
    (record,) = lines(captured)
    assert record["message"] == "<log message not rendered: ImportError>"
    assert "s3cr3t-value" not in captured.getvalue()
