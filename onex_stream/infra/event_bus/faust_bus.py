"""FaustEventBus: ProtocolEventBus on Faust agents, one agent per command topic.

Each agent takes batches of records without acking them (``stream.noack_take``) and
hands them to :class:`BatchDelivery`, which acks each event once the broker stored its
answer or dead letter. A batch that cannot be finished stops the worker instead of
being skipped; the commit guard keeps its offsets uncommitted.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Awaitable, Sized
from pathlib import Path
from typing import Any

from faust.types import RecordMetadata

from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.errors import EventBusError
from onex_stream.infra.event_bus.delivery import BatchDelivery, Route
from onex_stream.infra.event_bus.faust_app import HostApp
from onex_stream.infra.event_bus.kafka_topics import missing_topics
from onex_stream.infra.event_bus.records import Outbound, response_record
from onex_stream.infra.event_bus.settings import BusSettings
from onex_stream.infra.observability.metrics import HostMetrics
from onex_stream.spi.event_bus import (
    EnvelopeCallback,
    InvalidCallback,
    LifecycleHook,
    ProtocolEventBus,
)

logger = logging.getLogger(__name__)


class FaustEventBus(ProtocolEventBus):
    """The event bus of a runtime host, on any Faust broker (``memory://``, Kafka)."""

    def __init__(self, settings: BusSettings, metrics: HostMetrics) -> None:
        self.settings = settings
        self.metrics = metrics
        self.app = HostApp(
            settings.app_id,
            broker=settings.broker_url,
            store="memory://",
            autodiscover=False,
            value_serializer="raw",
            key_serializer="raw",
            topic_partitions=settings.partitions,
            topic_disable_leader=True,
            table_standby_replicas=0,
            web_enabled=settings.web_enabled,
            web_port=settings.web_port,
            shutdown_grace=settings.shutdown_grace_seconds,
            producer_max_request_size=settings.max_record_bytes,
            stream_wait_empty=False,  # HostApp waits itself, bounded by the grace period
            **{"datadir": _scratch_dir(settings.app_id), **settings.faust_options},
        )
        self.app.startup_hooks.append(self.initialize)
        self._routes: dict[str, Route] = {}
        self._delivery = BatchDelivery(settings, metrics, self._send)

    def subscribe(
        self, topic: str, callback: EnvelopeCallback, on_invalid: InvalidCallback | None = None
    ) -> None:
        """Create the agent consuming ``topic`` (must be one of the settings' subscriptions)."""
        subscription = next((s for s in self.settings.subscriptions if s.input == topic), None)
        if subscription is None:
            raise EventBusError(f"topic {topic!r} is not a subscription of this bus")
        route = Route(
            subscription.event_topic, subscription.dead_letter_topic, callback, on_invalid
        )
        self._routes[topic] = route
        channel = self.app.topic(topic, partitions=self.settings.partitions)

        async def agent(stream: Any) -> None:
            async for events in stream.noack_take(
                self.settings.batch_size, within=self.settings.batch_within_seconds
            ):
                try:
                    await self._delivery.deliver(events, route)
                except Exception as exc:  # never commit past: stop, another worker takes over
                    await self._stop_worker(exc)
                    return

        self.app.agent(channel, name=topic.replace(".", "-"))(agent)

    async def initialize(self) -> None:
        """Create the topics (memory://, or when allowed), else check that they exist."""
        names = [
            n for t, r in self._routes.items() for n in (t, r.event_topic, r.dead_letter_topic)
        ]
        if self.settings.create_topics:
            for name in names:
                await self.app.topic(name, partitions=self.settings.partitions).maybe_declare()
            return
        settings = self.settings
        missing = await missing_topics(settings.bootstrap_servers, names, **settings.admin_auth)
        if missing:
            raise EventBusError(
                f"missing topics on {settings.bootstrap_servers}: {', '.join(missing)}; "
                "create them, or set event_bus.config.create_topics: true (dev/test only)",
                details={"missing_topics": missing},
            )

    def add_lifecycle_hooks(
        self, *, on_start: LifecycleHook, on_ready: LifecycleHook, on_stop: LifecycleHook
    ) -> None:
        """Hook the host into the Faust app's start, started and shutdown."""
        self.app.startup_hooks.append(on_start)
        self.app.ready_hooks.append(on_ready)
        self.app.shutdown_hooks.append(on_stop)

    async def start_consuming(self) -> None:
        """Start the Faust app in this process (``faust worker`` does this itself)."""
        await self.app.start()

    async def shutdown(self) -> None:
        """Stop the app: agents finish, offsets are committed, hooks run."""
        await self.app.stop()

    async def publish_envelope(self, envelope: ModelOnexEnvelope, topic: str) -> None:
        """Publish one envelope keyed by correlation_id; returns once acknowledged."""
        await (await self._send(response_record(envelope, topic)))

    def in_flight(self) -> int:
        """Envelopes fetched and not yet acked: Faust's pending-ack set, which is also
        what it waits for on shutdown (private, but the one true count)."""
        pending: Sized = getattr(self.app.consumer, "_unacked_messages", ())
        return len(pending)

    async def health_check(self) -> dict[str, Any]:
        """Healthy while the app runs and the consumer holds partitions."""
        running = self.app.started and not self.app.should_stop
        assigned = len(self.app.consumer.assignment()) if running else 0
        return {"healthy": running and assigned > 0, "assigned_partitions": assigned}

    async def _stop_worker(self, exc: Exception) -> None:
        """Crash the app: its unanswered records stay uncommitted and are delivered again."""
        logger.critical("stopping the worker: %s", exc)
        await self.app.crash(exc)

    async def _send(self, record: Outbound) -> Awaitable[RecordMetadata]:
        """Hand a record to the producer; the returned awaitable resolves on broker ack."""
        return await self.app.producer.send(
            record.topic, record.key, record.value, None, None, record.headers
        )


def _scratch_dir(app_id: str) -> str:
    """Faust insists on a data directory; tables live in memory, so a temp one will do."""
    return str(Path(tempfile.gettempdir()) / f"onex_stream-{app_id}")
