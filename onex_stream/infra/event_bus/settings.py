"""BusSettings: what the Faust event bus needs from a runtime contract."""

from __future__ import annotations

from dataclasses import dataclass, field

from onex_stream.core.contracts import ModelRuntimeSection, ModelSubscription
from onex_stream.infra.event_bus.codec import DEFAULT_MAX_ENVELOPE_BYTES


@dataclass(frozen=True)
class BusSettings:
    """Broker, consumer group, topics, batching and concurrency of one host."""

    app_id: str
    broker_url: str
    subscriptions: tuple[ModelSubscription, ...]
    partitions: int = 8
    max_concurrency: int = 1
    batch_size: int = 1000
    batch_within_seconds: float = 0.01
    max_envelope_bytes: int = DEFAULT_MAX_ENVELOPE_BYTES
    web_enabled: bool = True
    web_port: int = 6066
    faust_options: dict[str, object] = field(default_factory=dict)

    @classmethod
    def from_runtime(cls, runtime: ModelRuntimeSection, **overrides: object) -> BusSettings:
        """Settings for a runtime contract's ``runtime`` section."""
        bus = runtime.event_bus
        if bus.kind == "kafka":
            servers = bus.config.bootstrap_servers or "localhost:9092"
            broker_url = ";".join(f"kafka://{server.strip()}" for server in servers.split(","))
        else:
            broker_url = "memory://"
        values: dict[str, object] = {
            "app_id": runtime.consumer_group,
            "broker_url": broker_url,
            "subscriptions": tuple(runtime.subscriptions),
            "partitions": bus.config.partitions,
            "max_concurrency": runtime.max_concurrent_operations,
            "web_enabled": runtime.health.enabled or runtime.metrics.enabled,
            "web_port": runtime.health.port,
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
