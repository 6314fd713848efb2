"""BusSettings: what the Faust event bus needs from a runtime contract."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from onex_stream.core.contracts import ModelRuntimeSection, ModelSubscription
from onex_stream.core.contracts.event_bus import (
    DEFAULT_MAX_ENVELOPE_BYTES,
    DEFAULT_MAX_RECORD_BYTES,
)
from onex_stream.core.contracts.idempotency import (
    DEFAULT_MAX_ENTRIES_PER_PARTITION,
    DEFAULT_WINDOW_SECONDS,
)
from onex_stream.core.contracts.runtime_contract import DEFAULT_WEB_BIND
from onex_stream.infra.event_bus.memory.kind import MEMORY
from onex_stream.infra.event_bus.partitioner import default_partitioner
from onex_stream.infra.event_bus.transport_kind import TransportKind


@dataclass(frozen=True)
class BusSettings:
    """Broker, consumer group, topics, batching and concurrency of one host."""

    app_id: str
    broker_url: str
    subscriptions: tuple[ModelSubscription, ...]
    transport: TransportKind = MEMORY
    partitions: int = 8
    max_concurrency: int = 1
    batch_size: int = 500
    max_envelope_bytes: int = DEFAULT_MAX_ENVELOPE_BYTES
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
    max_delivery_attempts: int = 3
    retry_backoff_seconds: float = 0.1
    web_enabled: bool = True
    web_port: int = 6066
    web_bind: str = DEFAULT_WEB_BIND
    shutdown_grace_seconds: float = 30.0
    create_topics: bool = False
    startup_timeout_seconds: float = 30.0
    origin: str = ""  # file:line of the contract's event_bus section, for start faults
    bootstrap_servers: str = ""
    admin_auth: Mapping[str, Any] = field(default_factory=dict)
    faust_options: dict[str, object] = field(default_factory=dict)
    idempotency_window_seconds: float = DEFAULT_WINDOW_SECONDS
    idempotency_max_entries: int = DEFAULT_MAX_ENTRIES_PER_PARTITION
    idempotency_clock: Callable[[], float] = time.time  # when remembered answers expire (s)

    @classmethod
    def from_runtime(
        cls,
        runtime: ModelRuntimeSection,
        env: Mapping[str, str],
        transport: TransportKind,
        **overrides: Any,
    ) -> BusSettings:
        """Settings for a runtime contract's ``runtime`` section on ``transport``.

        Sized by ``max_inflight_envelopes``: half of it may wait in the agent's buffer
        (Faust pauses fetching at 80% of that), a quarter is fetched at once, and a
        quarter is answered at once: one full batch, or up to ``PIPELINE_DEPTH``
        smaller ones.
        """
        config = runtime.event_bus.config
        inflight = config.max_inflight_envelopes
        values: dict[str, Any] = {
            "app_id": runtime.consumer_group,
            "subscriptions": tuple(runtime.subscriptions),
            "transport": transport,
            "partitions": config.partitions,
            "max_concurrency": runtime.max_concurrent_operations,
            "batch_size": inflight // 4,
            "max_envelope_bytes": config.max_envelope_bytes,
            "max_record_bytes": config.max_record_bytes,
            "max_delivery_attempts": config.max_delivery_attempts,
            "startup_timeout_seconds": config.startup_timeout_seconds,
            "web_enabled": runtime.health.enabled or runtime.metrics.enabled,
            "web_port": runtime.health.port,
            "web_bind": runtime.health.bind,
            "shutdown_grace_seconds": runtime.shutdown_timeout_seconds,
            "idempotency_window_seconds": runtime.idempotency.window_seconds,
            "idempotency_max_entries": runtime.idempotency.max_entries_per_partition,
            **transport.settings(config, env),
        }
        values["faust_options"] = {
            "stream_buffer_maxsize": inflight // 2,
            "broker_max_poll_records": inflight // 4,
            "consumer_auto_offset_reset": config.auto_offset_reset,
            "processing_guarantee": config.processing_guarantee,
            "producer_partitioner": default_partitioner,
            "producer_max_batch_size": 256 * 1024,  # fewer produce requests per batch
            **values.get("faust_options", {}),
            **overrides.pop("faust_options", {}),
        }
        return cls(**{**values, **overrides})
