"""BusSettings: what the Faust event bus needs from a runtime contract."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from onex_stream.core.contracts import ModelEventBusSettings, ModelRuntimeSection, ModelSubscription
from onex_stream.core.contracts.event_bus import (
    DEFAULT_MAX_ENVELOPE_BYTES,
    DEFAULT_MAX_RECORD_BYTES,
)
from onex_stream.infra.event_bus.kafka_security import aiokafka_auth, faust_credentials


@dataclass(frozen=True)
class BusSettings:
    """Broker, consumer group, topics, batching and concurrency of one host."""

    app_id: str
    broker_url: str
    subscriptions: tuple[ModelSubscription, ...]
    partitions: int = 8
    max_concurrency: int = 1
    batch_size: int = 500
    batch_within_seconds: float = 0.01
    max_envelope_bytes: int = DEFAULT_MAX_ENVELOPE_BYTES
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
    max_delivery_attempts: int = 3
    retry_backoff_seconds: float = 0.1
    web_enabled: bool = True
    web_port: int = 6066
    shutdown_grace_seconds: float = 30.0
    create_topics: bool = True
    bootstrap_servers: str = ""
    admin_auth: Mapping[str, Any] = field(default_factory=dict)
    faust_options: dict[str, object] = field(default_factory=dict)

    @classmethod
    def from_runtime(
        cls, runtime: ModelRuntimeSection, env: Mapping[str, str], **overrides: Any
    ) -> BusSettings:
        """Settings for a runtime contract's ``runtime`` section.

        In-flight envelopes stay under ``max_inflight_envelopes``: half of it may
        wait in the agent's buffer (Faust pauses fetching at 80% of that), a
        quarter is processed as one batch, a quarter is fetched at once.
        """
        config = runtime.event_bus.config
        inflight = config.max_inflight_envelopes
        options: dict[str, object] = {
            "stream_buffer_maxsize": inflight // 2,
            "broker_max_poll_records": inflight // 4,
            "consumer_auto_offset_reset": config.auto_offset_reset,
        }
        values: dict[str, Any] = {
            "app_id": runtime.consumer_group,
            "broker_url": "memory://",
            "subscriptions": tuple(runtime.subscriptions),
            "partitions": config.partitions,
            "max_concurrency": runtime.max_concurrent_operations,
            "batch_size": inflight // 4,
            "max_envelope_bytes": config.max_envelope_bytes,
            "max_record_bytes": config.max_record_bytes,
            "max_delivery_attempts": config.max_delivery_attempts,
            "web_enabled": runtime.health.enabled or runtime.metrics.enabled,
            "web_port": runtime.health.port,
            "shutdown_grace_seconds": runtime.shutdown_timeout_seconds,
        }
        if runtime.event_bus.kind == "kafka":
            values.update(_kafka_values(config, env))
            options.update(_kafka_options(config, env))
        values["faust_options"] = {**options, **overrides.pop("faust_options", {})}
        return cls(**{**values, **overrides})


def _kafka_values(config: ModelEventBusSettings, env: Mapping[str, str]) -> dict[str, Any]:
    servers = [s.strip() for s in (config.bootstrap_servers or "localhost:9092").split(",")]
    scheme = "onex-kafka-idempotent" if config.idempotence else "onex-kafka"
    return {
        "broker_url": ";".join(f"{scheme}://{server}" for server in servers),
        "bootstrap_servers": ",".join(servers),
        "create_topics": config.create_topics,
        "admin_auth": aiokafka_auth(config.security, env),
    }


def _kafka_options(config: ModelEventBusSettings, env: Mapping[str, str]) -> dict[str, object]:
    return {
        "broker_session_timeout": config.session_timeout_ms / 1000,
        "broker_heartbeat_interval": config.heartbeat_interval_ms / 1000,
        "broker_rebalance_timeout": config.rebalance_timeout_ms / 1000,
        "producer_acks": -1,
        "broker_credentials": faust_credentials(config.security, env),
    }
