"""Faust's aiokafka transport with prompt resumption and, optionally, idempotence.

``onex-kafka://`` resumes fetching as soon as a full buffer drains (see
``PromptResumeMixin`` in ``faust_overrides``); ``onex-kafka-idempotent://`` also
enables the idempotent producer. Faust enables idempotence only for exactly-once
processing; the host wants it for at-least-once too (no duplicates from producer
retries). Use it with brokers that support ``InitProducerId`` (Kafka >= 0.11; not the
tansu test broker).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aiokafka.errors import KafkaError
from faust.transport.drivers import aiokafka

from onex_stream.core.errors import EventBusError, HostStartError
from onex_stream.infra.event_bus.faust_overrides import (
    CommitGuardMixin,
    DirectDrainMixin,
    PromptResumeMixin,
)


class PromptConsumer(DirectDrainMixin, CommitGuardMixin, PromptResumeMixin, aiokafka.Consumer):
    """aiokafka consumer that resumes fetching as soon as a buffer drains and commits
    only past answered records."""


class IdempotentProducer(aiokafka.Producer):
    """aiokafka producer with ``enable_idempotence`` and ``acks=all``."""

    def _settings_extra(self) -> Mapping[str, Any]:
        return {**super()._settings_extra(), "acks": "all", "enable_idempotence": True}

    async def on_start(self) -> None:
        """Start; a broker that refuses ``InitProducerId`` is a start fault saying what to set."""
        try:
            await super().on_start()
        except KafkaError as exc:
            where = getattr(self.app, "contract_origin", "") or "the contract"
            cause = EventBusError(f"{type(exc).__name__}: {exc}")
            fix = (
                "event_bus.config.processing_guarantee: exactly_once needs a broker with "
                "transactions (Kafka >= 0.11, Redpanda): set processing_guarantee: "
                "at_least_once and idempotence: false"
                if self.app.in_transaction
                else "set event_bus.config.idempotence: false"
            )
            raise HostStartError(
                f"{where}: the broker refused the idempotent producer (InitProducerId: "
                f"{type(exc).__name__}); {fix} for brokers without it",
                cause,
            ) from None


class Transport(aiokafka.Transport):
    """Faust's aiokafka transport with the prompt consumer."""

    Consumer = PromptConsumer


class IdempotentTransport(Transport):
    """The same, producing idempotently."""

    Producer = IdempotentProducer
