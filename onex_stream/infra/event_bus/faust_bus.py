"""FaustEventBus: ProtocolEventBus on Faust agents, one agent per command topic.

Each agent takes batches of records without acking them (``stream.noack_take``),
decodes and answers every record, publishes all answers through the producer,
waits until the broker acknowledged every send, and only then acks the batch's
events: a committed offset never passes an envelope whose answer is not stored.
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Awaitable, Sequence, Sized
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faust.types import RecordMetadata

from onex_stream.core.envelope import ModelOnexEnvelope
from onex_stream.core.errors import EventBusError
from onex_stream.infra.event_bus.codec import DecodeFailure, decode_envelope
from onex_stream.infra.event_bus.faust_app import HostApp
from onex_stream.infra.event_bus.kafka_topics import missing_topics
from onex_stream.infra.event_bus.records import (
    Origin,
    Outbound,
    dead_letter_record,
    response_record,
)
from onex_stream.infra.event_bus.settings import BusSettings
from onex_stream.infra.observability.metrics import HostMetrics
from onex_stream.spi.event_bus import (
    EnvelopeCallback,
    InvalidCallback,
    LifecycleHook,
    ProtocolEventBus,
)


@dataclass(frozen=True)
class _Route:
    event_topic: str
    dead_letter_topic: str
    callback: EnvelopeCallback
    on_invalid: InvalidCallback | None


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
            stream_wait_empty=False,  # HostApp waits itself, bounded by the grace period
            **{"datadir": _scratch_dir(settings.app_id), **settings.faust_options},
        )
        self.app.startup_hooks.append(self.initialize)
        self._routes: dict[str, _Route] = {}
        self._semaphore = asyncio.Semaphore(settings.max_concurrency)

    def subscribe(
        self, topic: str, callback: EnvelopeCallback, on_invalid: InvalidCallback | None = None
    ) -> None:
        """Create the agent consuming ``topic`` (must be one of the settings' subscriptions)."""
        subscription = next((s for s in self.settings.subscriptions if s.input == topic), None)
        if subscription is None:
            raise EventBusError(f"topic {topic!r} is not a subscription of this bus")
        route = _Route(
            subscription.event_topic, subscription.dead_letter_topic, callback, on_invalid
        )
        self._routes[topic] = route
        channel = self.app.topic(topic, partitions=self.settings.partitions)

        async def agent(stream: Any) -> None:
            async for events in stream.noack_take(
                self.settings.batch_size, within=self.settings.batch_within_seconds
            ):
                await self._process(events, route)

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

    async def _process(self, events: Sequence[Any], route: _Route) -> None:
        if self.settings.max_concurrency == 1:
            sends = [send for event in events for send in await self._answer_now(event, route)]
        else:
            answered = await asyncio.gather(*(self._bounded(event, route) for event in events))
            sends = [send for event_sends in answered for send in event_sends]
        await asyncio.gather(*sends)
        for event in events:
            event.ack()

    async def _bounded(self, event: Any, route: _Route) -> list[Awaitable[RecordMetadata]]:
        async with self._semaphore:
            return await self._answer_now(event, route)

    async def _answer_now(self, event: Any, route: _Route) -> list[Awaitable[RecordMetadata]]:
        """Answer one event and hand its records to the producer at once."""
        return [await self._send(record) for record in await self._answer(event, route)]

    async def _answer(self, event: Any, route: _Route) -> list[Outbound]:
        decoded = decode_envelope(event.value, self.settings.max_envelope_bytes)
        if not isinstance(decoded, DecodeFailure):
            return [response_record(await route.callback(decoded), route.event_topic)]
        message = event.message
        origin = Origin(message.topic, message.partition, message.offset)
        self.metrics.dead_letters.labels(route.dead_letter_topic, decoded.reason).inc()
        records = [
            dead_letter_record(
                route.dead_letter_topic, message.key, event.value, decoded.error, origin
            )
        ]
        if route.on_invalid is not None and decoded.answerable:
            response = await route.on_invalid(
                decoded.error, decoded.correlation_id, decoded.envelope_id
            )
            records.append(response_record(response, route.event_topic))
        return records

    async def _send(self, record: Outbound) -> Awaitable[RecordMetadata]:
        """Hand a record to the producer; the returned awaitable resolves on broker ack."""
        return await self.app.producer.send(
            record.topic, record.key, record.value, None, None, record.headers
        )


def _scratch_dir(app_id: str) -> str:
    """Faust insists on a data directory; tables live in memory, so a temp one will do."""
    return str(Path(tempfile.gettempdir()) / f"onex_stream-{app_id}")
