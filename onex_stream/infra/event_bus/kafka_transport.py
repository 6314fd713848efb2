"""``kafka-idempotent://``: Faust's aiokafka transport with an idempotent producer.

Faust enables idempotence only for exactly-once processing; the runtime host wants
it for at-least-once too (no duplicates from producer retries). Use it with brokers
that support ``InitProducerId`` (Kafka >= 0.11; not the tansu test broker).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from faust.transport.drivers import aiokafka


class IdempotentProducer(aiokafka.Producer):
    """aiokafka producer with ``enable_idempotence`` and ``acks=all``."""

    def _settings_extra(self) -> Mapping[str, Any]:
        return {**super()._settings_extra(), "acks": "all", "enable_idempotence": True}


class Transport(aiokafka.Transport):
    """Faust's aiokafka transport, producing idempotently."""

    Producer = IdempotentProducer
