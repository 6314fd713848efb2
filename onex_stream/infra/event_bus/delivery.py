"""BatchDelivery: answer a batch of consumed records at least once, whatever they hold.

Every record ends as an answer or a dead letter, and its event is acked only once the
broker acknowledged what it produced. Records are sized to fit the producer's limit
before they are sent: an answer too large becomes a RESPONSE_TOO_LARGE answer, a dead
letter too large is truncated. A record whose answering fails (a send the broker
refuses, a bug) is tried again, ``max_delivery_attempts`` times in all, then
dead-lettered with the failure. When even that dead letter cannot be written,
:class:`DeliveryFailedError` is raised and the record stays unacked: the commit guard never
lets an offset pass it, so it is delivered again after a restart.

Commands an ``idempotent`` predicate accepts are answered through the route's
:class:`AnswersTable`: a command whose envelope_id has a stored answer gets that answer
published again and is not executed; otherwise its answer is stored, its changelog
record is sent, and the answer is sent only once the broker acknowledged that record.
The event is acked after both: the changelog record, then the answer, then the commit.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from faust.types import TP, RecordMetadata

from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.errors import EventBusError, OnexError, ResponseTooLargeError
from onex_stream.core.responses import without_payload
from onex_stream.infra.event_bus.answer_memory import worth_remembering
from onex_stream.infra.event_bus.answers_table import AnswersTable
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
from onex_stream.spi.event_bus import EnvelopeCallback, IdempotentPredicate, InvalidCallback

logger = logging.getLogger(__name__)

Send = Callable[[Outbound, TP | None], Awaitable[Awaitable[RecordMetadata]]]
"""Hands a record to the producer, on behalf of the consumed partition it answers (None:
outside any transaction); the awaitable it returns resolves on broker ack."""


@dataclass(frozen=True, slots=True)
class Remembered:
    """An answer stored in ``table`` under ``key``, sent once its changelog record is
    acknowledged."""

    answer: Outbound
    table: AnswersTable
    key: bytes


@dataclass(frozen=True, slots=True)
class Handed:
    """An event's records handed to the producer, and the answer to send after them."""

    sends: list[Awaitable[RecordMetadata]]
    then: Remembered | None = None


_Handed = Handed | Exception


class DeliveryFailedError(EventBusError):
    """A record could be neither answered nor dead-lettered; the worker must stop."""


@dataclass(frozen=True)
class Route:
    """Where the answers and dead letters of one command topic go, and who answers."""

    event_topic: str
    dead_letter_topic: str
    callback: EnvelopeCallback
    on_invalid: InvalidCallback | None
    idempotent: IdempotentPredicate | None = None
    answers: AnswersTable | None = None


@dataclass(frozen=True, slots=True)
class Fitted:
    """An answer and the record that carries it (or its dead letter, if it fits nowhere)."""

    response: ModelOnexEnvelope
    outbound: Outbound


class BatchDelivery:
    """Answers batches of Faust events for every agent of one bus."""

    def __init__(self, settings: BusSettings, metrics: HostMetrics, send: Send) -> None:
        self.settings = settings
        self.metrics = metrics
        self._send = send
        self._limit = settings.max_record_bytes
        self._semaphore = asyncio.Semaphore(settings.max_concurrency)
        self._turns: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
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
        """Answer ``events`` once; ack each as soon as the broker acknowledged its records
        (a remembered answer goes out once its changelog record is acknowledged), whatever
        the other events of the batch still wait for. One by one (max_concurrency 1),
        envelopes are handled in order while the earlier ones complete."""
        outcomes: Sequence[BaseException | None]
        if self.settings.max_concurrency == 1:
            outcomes = await self._in_order(events, route)
        else:
            outcomes = await asyncio.gather(*(self._bounded(event, route) for event in events))
        return [(e, exc) for e, exc in zip(events, outcomes, strict=True) if exc is not None]

    async def _in_order(self, events: Sequence[Any], route: Route) -> list[BaseException | None]:
        """Handle the events one after the other, after the route's earlier batches (which
        may still wait for acknowledgements); complete each as soon as it is handed."""
        handed: asyncio.Queue[_Handed] = asyncio.Queue()

        async def hand_over_all() -> None:
            async with self._turns[id(route)]:  # a route's batches take turns
                for event in events:
                    handed.put_nowait(await self._hand_over(event, route))

        async def complete_all() -> list[BaseException | None]:
            return [await self._complete(event, await handed.get()) for event in events]

        _, outcomes = await asyncio.gather(hand_over_all(), complete_all())
        return outcomes

    async def _bounded(self, event: Any, route: Route) -> BaseException | None:
        async with self._semaphore:
            handed = await self._hand_over(event, route)
        return await self._complete(event, handed)

    async def _complete(self, event: Any, handed: _Handed) -> BaseException | None:
        """Await the broker's acknowledgements of ``handed``, send the remembered answer
        after them, then ack ``event``; the first failure instead (the event stays unacked)."""
        if isinstance(handed, Exception):
            return handed
        failure: BaseException | None = None
        for sent in handed.sends:
            try:
                await sent
            except Exception as exc:  # every send is awaited; the first failure counts
                failure = failure or exc
        then = handed.then
        if failure is None and then is not None:  # its changelog record is stored
            then.table.confirm(then.key)
            try:
                await (await self._send(then.answer, event.message.tp))
            except Exception as exc:
                failure = exc
        if failure is None:
            self._ack(event)
        return failure

    async def _hand_over(self, event: Any, route: Route) -> _Handed:
        """Answer one event and hand its records to the producer at once."""
        try:
            decoded = decode_envelope(event.value, self.settings.max_envelope_bytes)
            if (
                route.answers is not None
                and route.idempotent is not None
                and not isinstance(decoded, DecodeFailure)
                and route.idempotent(decoded)
            ):
                return await self._remembered(event, decoded, route, route.answers)
            records = await self._answer(event, decoded, route)
            return Handed([await self._send(r, event.message.tp) for r in records])
        except Exception as exc:  # a failure is retried, then dead-lettered: never lost
            return exc

    async def _remembered(
        self, event: Any, envelope: ModelOnexEnvelope, route: Route, answers: AnswersTable
    ) -> Handed:
        """Answer an idempotent command from the table, or execute it and store its answer;
        the answer is sent once the changelog record of its entry is acknowledged."""
        partition, key = event.message.partition, envelope.envelope_id.bytes
        stored = answers.stored(partition, key)
        running = answers.running(key) if stored is None else None
        if running is not None:  # the same envelope_id executes now (concurrency > 1)
            stored = await asyncio.shield(running)
        if stored is None:
            claim = answers.start_running(key)
            try:
                fitted = self._fitted(event, await route.callback(envelope), route)
                answer = fitted.outbound
                if not worth_remembering(fitted.response):
                    return Handed([await self._send(answer, event.message.tp)])
                stored = answers.store(partition, key, answer, route.event_topic)
                claim.set_result(stored)
            finally:
                answers.stop_running(key)
        else:
            self.metrics.replayed_answers.labels(event.message.topic).inc()
            answer = answers.answer(stored, route.event_topic, route.dead_letter_topic)
        if answers.is_confirmed(key):
            return Handed([await self._send(answer, event.message.tp)])
        # outside the transaction (exactly_once): durable even if the transaction aborts
        logged = await self._send(answers.changelog_record(partition, key, stored), None)
        return Handed([logged], Remembered(answer, answers, key))

    async def _answer(
        self, event: Any, decoded: ModelOnexEnvelope | DecodeFailure, route: Route
    ) -> list[Outbound]:
        if not isinstance(decoded, DecodeFailure):
            return [self._fitted(event, await route.callback(decoded), route).outbound]
        self.metrics.dead_letters.labels(route.dead_letter_topic, decoded.reason).inc()
        records = [self._dead_letter(event, decoded.error, route)]
        if route.on_invalid is not None and decoded.answerable:
            response = await route.on_invalid(
                decoded.error, decoded.correlation_id, decoded.envelope_id
            )
            records.append(self._fitted(event, response, route).outbound)
        return records

    def _fitted(self, event: Any, response: ModelOnexEnvelope, route: Route) -> Fitted:
        """The answer, or RESPONSE_TOO_LARGE in its place, or a dead letter if neither fits."""
        record = response_record(response, route.event_topic)
        size = encoded_size(record)
        if size <= self._limit:
            return Fitted(response, record)
        error = ResponseTooLargeError(
            f"response of {size} bytes exceeds the producer limit of {self._limit} bytes; "
            "its payload was not sent",
            correlation_id=response.correlation_id,
            handler_type=response.handler_type,
            operation=response.operation,
            details={"size_bytes": size, "max_bytes": self._limit},
        )
        response = without_payload(response, error)
        record = response_record(response, route.event_topic)
        if encoded_size(record) <= self._limit:
            return Fitted(response, record)
        self.metrics.dead_letters.labels(route.dead_letter_topic, "response_too_large").inc()
        return Fitted(response, self._dead_letter(event, error, route))

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
            await (await self._send(self._dead_letter(event, error, route), event.message.tp))
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
