"""BatchDelivery: answer a batch of consumed records at least once, whatever they hold.

Every record ends as an answer or a dead letter, and its event is acked only once the
broker acknowledged what it produced. Records are sized to fit the producer's limit
before they are sent: an answer too large becomes a RESPONSE_TOO_LARGE answer, a dead
letter too large is truncated. A record whose answering fails (a send the broker
refuses, a bug) is tried again, ``max_delivery_attempts`` times in all, then
dead-lettered with the failure. When even that dead letter cannot be written,
:class:`DeliveryFailedError` is raised and the record stays unacked: the commit guard never
lets an offset pass it, so it is delivered again after a restart.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from faust.types import RecordMetadata

from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.errors import EventBusError, OnexError, ResponseTooLargeError
from onex_stream.core.responses import without_payload
from onex_stream.infra.event_bus.codec import DecodeFailure, decode_envelope
from onex_stream.infra.event_bus.records import (
    Origin,
    Outbound,
    dead_letter_record,
    encoded_size,
    response_record,
)
from onex_stream.infra.event_bus.settings import BusSettings
from onex_stream.infra.observability.metrics import HostMetrics
from onex_stream.spi.event_bus import EnvelopeCallback, InvalidCallback

logger = logging.getLogger(__name__)

Send = Callable[[Outbound], Awaitable[Awaitable[RecordMetadata]]]
"""Hands a record to the producer; the awaitable it returns resolves on broker ack."""
_Handed = list[Awaitable[RecordMetadata]] | Exception


class DeliveryFailedError(EventBusError):
    """A record could be neither answered nor dead-lettered; the worker must stop."""


@dataclass(frozen=True)
class Route:
    """Where the answers and dead letters of one command topic go, and who answers."""

    event_topic: str
    dead_letter_topic: str
    callback: EnvelopeCallback
    on_invalid: InvalidCallback | None


class BatchDelivery:
    """Answers batches of Faust events for every agent of one bus."""

    def __init__(self, settings: BusSettings, metrics: HostMetrics, send: Send) -> None:
        self.settings = settings
        self.metrics = metrics
        self._send = send
        self._limit = settings.max_record_bytes
        self._semaphore = asyncio.Semaphore(settings.max_concurrency)
        self.in_flight = 0  # events taken and not yet acked (answered or dead-lettered)

    async def deliver(self, events: Sequence[Any], route: Route) -> None:
        """Answer and ack every event; raises :class:`DeliveryFailedError` if one cannot be."""
        attempts = self.settings.max_delivery_attempts
        self.in_flight += len(events)
        failures = await self._attempt(events, route)
        for attempt in range(1, attempts):
            if not failures:
                return
            self._log_failures(failures, attempt)
            await asyncio.sleep(self.settings.retry_backoff_seconds * 2 ** (attempt - 1))
            failures = await self._attempt([event for event, _ in failures], route)
        for event, exc in failures:
            await self._quarantine(event, exc, route)

    async def _attempt(
        self, events: Sequence[Any], route: Route
    ) -> list[tuple[Any, BaseException]]:
        """Answer ``events`` once; ack those whose records the broker acknowledged."""
        handed: Sequence[_Handed]
        if self.settings.max_concurrency == 1:
            handed = [await self._hand_over(event, route) for event in events]
        else:
            handed = await asyncio.gather(*(self._bounded(event, route) for event in events))
        sends = [send for h in handed if not isinstance(h, Exception) for send in h]
        results = iter(await asyncio.gather(*sends, return_exceptions=True))
        failures: list[tuple[Any, BaseException]] = []
        for event, outcome in zip(events, handed, strict=True):
            if isinstance(outcome, Exception):
                failures.append((event, outcome))
                continue
            errors = [r for r in (next(results) for _ in outcome) if isinstance(r, BaseException)]
            if errors:
                failures.append((event, errors[0]))
            else:
                self._ack(event)
        return failures

    async def _bounded(self, event: Any, route: Route) -> _Handed:
        async with self._semaphore:
            return await self._hand_over(event, route)

    async def _hand_over(self, event: Any, route: Route) -> _Handed:
        """Answer one event and hand its records to the producer at once."""
        try:
            return [await self._send(record) for record in await self._answer(event, route)]
        except Exception as exc:  # a failure is retried, then dead-lettered: never lost
            return exc

    async def _answer(self, event: Any, route: Route) -> list[Outbound]:
        decoded = decode_envelope(event.value, self.settings.max_envelope_bytes)
        if not isinstance(decoded, DecodeFailure):
            return [self._fitted(event, await route.callback(decoded), route)]
        self.metrics.dead_letters.labels(route.dead_letter_topic, decoded.reason).inc()
        records = [self._dead_letter(event, decoded.error, route)]
        if route.on_invalid is not None and decoded.answerable:
            response = await route.on_invalid(
                decoded.error, decoded.correlation_id, decoded.envelope_id
            )
            records.append(self._fitted(event, response, route))
        return records

    def _fitted(self, event: Any, response: ModelOnexEnvelope, route: Route) -> Outbound:
        """The answer, or RESPONSE_TOO_LARGE in its place, or a dead letter if neither fits."""
        record = response_record(response, route.event_topic)
        size = encoded_size(record)
        if size <= self._limit:
            return record
        error = ResponseTooLargeError(
            f"response of {size} bytes exceeds the producer limit of {self._limit} bytes; "
            "its payload was not sent",
            correlation_id=response.correlation_id,
            handler_type=response.handler_type,
            operation=response.operation,
            details={"size_bytes": size, "max_bytes": self._limit},
        )
        record = response_record(without_payload(response, error), route.event_topic)
        if encoded_size(record) <= self._limit:
            return record
        self.metrics.dead_letters.labels(route.dead_letter_topic, "response_too_large").inc()
        return self._dead_letter(event, error, route)

    def _dead_letter(self, event: Any, error: OnexError, route: Route) -> Outbound:
        message = event.message
        origin = Origin(message.topic, message.partition, message.offset)
        return dead_letter_record(
            route.dead_letter_topic, message.key, event.value, error, origin, max_bytes=self._limit
        )

    async def _quarantine(self, event: Any, exc: BaseException, route: Route) -> None:
        """Dead-letter a record that could not be answered, then ack it."""
        attempts = self.settings.max_delivery_attempts
        error = EventBusError(
            f"not answered after {attempts} attempts: {type(exc).__name__}: {exc}",
            details={"attempts": attempts},
        )
        self.metrics.dead_letters.labels(route.dead_letter_topic, "undeliverable").inc()
        where = _where(event, error.message)
        logger.error("%s; dead-lettered to %s", where, route.dead_letter_topic)
        try:
            await (await self._send(self._dead_letter(event, error, route)))
        except Exception as send_error:
            raise DeliveryFailedError(
                f"{where}, and its dead letter to "
                f"{route.dead_letter_topic} failed too ({type(send_error).__name__}: "
                f"{send_error}); stopping: the record stays uncommitted"
            ) from send_error
        self._ack(event)

    def _ack(self, event: Any) -> None:
        event.ack()
        self.in_flight -= 1

    def _log_failures(self, failures: list[tuple[Any, BaseException]], attempt: int) -> None:
        for event, exc in failures:
            logger.warning(
                "%s (attempt %d of %d); trying again",
                _where(event, f"{type(exc).__name__}: {exc}"),
                attempt,
                self.settings.max_delivery_attempts,
            )


def _where(event: Any, what: str) -> str:
    message = event.message
    return f"record {message.topic}[{message.partition}]@{message.offset}: {what}"
