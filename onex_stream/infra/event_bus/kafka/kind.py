"""``event_bus.kind: kafka``: Faust's aiokafka driver with the host's consumer and producer."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from onex_stream.core.contracts import ModelEventBusSettings
from onex_stream.core.errors import EventBusError
from onex_stream.infra.event_bus.kafka.security import aiokafka_auth, faust_credentials
from onex_stream.infra.event_bus.transport_kind import TransportKind, declare_topics

from .admin import KafkaOffsets, existing_topics

logger = logging.getLogger(__name__)
_FIRST_RETRY_SECONDS = 0.5
_MAX_RETRY_SECONDS = 5.0

if TYPE_CHECKING:
    import faust

    from onex_stream.infra.event_bus.settings import BusSettings


class KafkaKind(TransportKind):
    """Topics are checked (created only when the contract allows it, dev/test)."""

    name = "kafka"

    def settings(self, config: ModelEventBusSettings, env: Mapping[str, str]) -> dict[str, Any]:
        """Bootstrap servers, credentials, group timeouts and acks from the contract."""
        servers = [s.strip() for s in (config.bootstrap_servers or "localhost:9092").split(",")]
        scheme = "onex-kafka-idempotent" if config.idempotence else "onex-kafka"
        return {
            "broker_url": ";".join(f"{scheme}://{server}" for server in servers),
            "bootstrap_servers": ",".join(servers),
            "create_topics": config.create_topics,
            "admin_auth": aiokafka_auth(config.security, env),
            "faust_options": {
                "broker_session_timeout": config.session_timeout_ms / 1000,
                "broker_heartbeat_interval": config.heartbeat_interval_ms / 1000,
                "broker_rebalance_timeout": config.rebalance_timeout_ms / 1000,
                "producer_acks": -1,
                "broker_credentials": faust_credentials(config.security, env),
            },
        }

    async def prepare_topics(
        self, app: faust.App, settings: BusSettings, names: Iterable[str]
    ) -> None:
        """Wait for the cluster (``startup_timeout_seconds``), then create the missing
        topics if the contract allows it, else fail naming them."""
        existing = await _existing_topics_within(settings)
        missing = [name for name in names if name not in existing]
        if missing and settings.create_topics:
            await declare_topics(app, missing, settings.partitions)
        elif missing:
            raise EventBusError(
                f"missing topics on {settings.bootstrap_servers}: {', '.join(missing)}; "
                "create them, or set event_bus.config.create_topics: true (dev/test only)",
                details={"missing_topics": missing},
            )

    def offset_source(self, settings: BusSettings) -> KafkaOffsets:
        """ListOffsets and OffsetFetch against the cluster."""
        return KafkaOffsets(settings.bootstrap_servers, settings.admin_auth)


KAFKA = KafkaKind()


async def _existing_topics_within(settings: BusSettings) -> set[str]:
    """Ask the cluster for its topics, retrying with backoff for the start-up window."""
    deadline = time.monotonic() + settings.startup_timeout_seconds
    delay = _FIRST_RETRY_SECONDS
    while True:
        try:
            return await existing_topics(settings.bootstrap_servers, **settings.admin_auth)
        except EventBusError as error:
            if time.monotonic() + delay > deadline:
                raise EventBusError(
                    f"{error.message} (event_bus.config.bootstrap_servers) within "
                    f"{settings.startup_timeout_seconds:g} s (event_bus.config."
                    "startup_timeout_seconds); check the address and that the broker runs"
                ) from None
            logger.warning("%s; trying again in %.1f s", error.message, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, _MAX_RETRY_SECONDS)
