"""``event_bus.kind: kafka``: Faust's aiokafka driver with the host's consumer and producer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from onex_stream.core.contracts import ModelEventBusSettings
from onex_stream.core.errors import EventBusError
from onex_stream.infra.event_bus.kafka.security import aiokafka_auth, faust_credentials
from onex_stream.infra.event_bus.transport_kind import declare_topics

from .admin import KafkaOffsets, missing_topics

if TYPE_CHECKING:
    import faust

    from onex_stream.infra.event_bus.settings import BusSettings


class KafkaKind:
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
        """Create the topics if the contract allows it, else check that they exist."""
        if settings.create_topics:
            await declare_topics(app, names, settings.partitions)
            return
        servers = settings.bootstrap_servers
        missing = await missing_topics(servers, names, **settings.admin_auth)
        if missing:
            raise EventBusError(
                f"missing topics on {servers}: {', '.join(missing)}; "
                "create them, or set event_bus.config.create_topics: true (dev/test only)",
                details={"missing_topics": missing},
            )

    def offset_source(self, settings: BusSettings) -> KafkaOffsets:
        """ListOffsets and OffsetFetch against the cluster."""
        return KafkaOffsets(settings.bootstrap_servers, settings.admin_auth)


KAFKA = KafkaKind()
