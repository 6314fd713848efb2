"""FaustEventBus: ProtocolEventBus on Faust agents, one agent per command topic.

Each agent takes batches of records straight from its channel without acking them
(:class:`ChannelBatches`: what is queued, no batch window) and hands them to
:class:`BatchDelivery`, which acks each event once the broker stored its
answer or dead letter. A batch that cannot be finished stops the worker instead of
being skipped; the commit guard keeps its offsets uncommitted. A topic subscribed with
an ``idempotent`` predicate gets an :class:`AnswersTable` (co-partitioned,
changelog-backed); the others get none.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from faust.exceptions import ConsumerNotStarted
from faust.types import TP, RecordMetadata

from onex_stream.core.errors import EventBusError, HostStartError
from onex_stream.infra.event_bus.answer_memory import AnswerMemory
from onex_stream.infra.event_bus.answers_table import AnswersTable
from onex_stream.infra.event_bus.batch_pipeline import BatchPipeline
from onex_stream.infra.event_bus.channel_batches import ChannelBatches
from onex_stream.infra.event_bus.delivery import BatchDelivery, Route
from onex_stream.infra.event_bus.faust_app import HostApp
from onex_stream.infra.event_bus.kafka.batch_sender import BatchSender
from onex_stream.infra.event_bus.raw_schema import RawSchema
from onex_stream.infra.event_bus.records import Outbound
from onex_stream.infra.event_bus.settings import BusSettings
from onex_stream.infra.observability.metrics import HostMetrics
from onex_stream.spi.event_bus import (
    BusHealth,
    EnvelopeCallback,
    IdempotentPredicate,
    InvalidCallback,
    LifecycleHook,
    OffsetSource,
    Partition,
    ProtocolEventBus,
)

logger = logging.getLogger(__name__)

#: Batches of one agent answered at once (handled one after the other when
#: max_concurrency is 1, while the earlier ones wait for acknowledgements), holding at
#: most one full batch's worth of envelopes (a quarter of max_inflight_envelopes): under
#: a light load batches are small (what arrived meanwhile), and many overlap their round
#: trips.
PIPELINE_DEPTH = 16


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
            web_bind=settings.web_bind,
            shutdown_grace=settings.shutdown_grace_seconds,
            contract_origin=settings.origin,
            producer_max_request_size=settings.max_record_bytes,
            stream_wait_empty=False,  # HostApp waits itself, bounded by the grace period
            **{"datadir": _scratch_dir(settings.app_id), **settings.faust_options},
        )
        self.app.startup_hooks.append(self._prepare_topics)
        self._routes: dict[str, Route] = {}
        self._answers: list[AnswersTable] = []
        self._delivery = BatchDelivery(settings, metrics, self._send)
        self._in_transaction = False  # both known at start (a worker sets in_worker)
        self._batches: BatchSender | None = None

    def subscribe(
        self,
        topic: str,
        callback: EnvelopeCallback,
        on_invalid: InvalidCallback | None = None,
        idempotent: IdempotentPredicate | None = None,
    ) -> None:
        """Create the agent consuming ``topic`` (must be one of the settings' subscriptions),
        and its answers table if ``idempotent`` is given."""
        subscription = next((s for s in self.settings.subscriptions if s.input == topic), None)
        if subscription is None:
            raise EventBusError(f"topic {topic!r} is not a subscription of this bus")
        answers = self._answers_table(topic) if idempotent is not None else None
        route = Route(
            subscription.event_topic,
            subscription.dead_letter_topic,
            callback,
            on_invalid,
            idempotent,
            answers,
        )
        self._routes[topic] = route
        channel = self.app.topic(topic, partitions=self.settings.partitions, schema=RawSchema())

        async def agent(stream: Any) -> None:
            batch_size = self.settings.batch_size
            pipeline = BatchPipeline(PIPELINE_DEPTH, self._stop_worker, max_envelopes=batch_size)
            try:
                async for events in ChannelBatches(stream, batch_size):
                    if not await pipeline.put(self._delivery.deliver(events, route), len(events)):
                        return  # a batch failed: the worker stops
            finally:
                pipeline.cancel()

        self.app.agent(channel, name=topic.replace(".", "-"))(agent)

    def _answers_table(self, topic: str) -> AnswersTable:
        """The answers table of ``topic``; the first one also starts the expiry sweep."""
        settings = self.settings
        memory = AnswerMemory(
            settings.idempotency_window_seconds,
            settings.idempotency_max_entries,
            settings.idempotency_clock,
        )
        table = AnswersTable(
            self.app, source_topic=topic, partitions=settings.partitions, memory=memory
        )
        self.app.tables.add(table)
        if not self._answers:
            interval = min(max(settings.idempotency_window_seconds / 4, 1.0), 60.0)
            self.app.timer(interval)(self._sweep_answers)
            self.metrics.remembered_answers.set_function(self._remembered_answers)
        self._answers.append(table)
        return table

    async def _sweep_answers(self) -> None:
        """Drop expired answers (also of partitions that receive no commands)."""
        for table in self._answers:
            table.memory.sweep()

    def _remembered_answers(self) -> float:
        return float(sum(len(table.memory) for table in self._answers))

    async def _prepare_topics(self) -> None:
        """Wait for the cluster and prepare the topics (the transport kind's rule), start the
        producer (a broker refusing it is the start fault), then the answers tables'
        changelogs: declared compacted when topics may be created, else checked."""
        names = [
            n for t, r in self._routes.items() for n in (t, r.event_topic, r.dead_letter_topic)
        ]
        transport, changelogs = self.settings.transport, self._answers
        self._in_transaction = self.app.in_transaction
        self._batches = None if self._in_transaction else BatchSender.of(self.app)
        try:
            if self._in_transaction:  # exactly_once declares through the transaction
                await transport.prepare_topics(self.app, self.settings, [])  # manager, which
                await self.app.producer.maybe_start()  # needs a started producer
            await transport.prepare_topics(self.app, self.settings, names)
            await self.app.producer.maybe_start()
            if self.settings.create_topics:  # compacted, deleted after the window
                for table in changelogs:
                    await table.changelog_topic.maybe_declare()
            elif changelogs:
                names = [table.changelog_topic_name for table in changelogs]
                await transport.prepare_topics(self.app, self.settings, names)
        except EventBusError as error:
            raise HostStartError(f"{self.settings.origin}: {error.message}", error) from None

    def add_lifecycle_hooks(
        self,
        *,
        on_start: LifecycleHook | None = None,
        on_ready: LifecycleHook | None = None,
        on_stop: LifecycleHook | None = None,
        first: bool = False,
    ) -> None:
        """Hook into the Faust app's start (before agents), started and shutdown."""
        app = self.app
        for hooks, hook in (
            (app.startup_hooks, on_start),
            (app.ready_hooks, on_ready),
            (app.shutdown_hooks, on_stop),
        ):
            if hook is not None:
                hooks.insert(0 if first else len(hooks), hook)

    def every(self, seconds: float, hook: LifecycleHook) -> None:
        """A Faust timer."""
        self.app.timer(seconds)(hook)

    async def start_consuming(self) -> None:
        """Start the Faust app in this process (``faust worker`` does this itself)."""
        await self.app.start()

    async def shutdown(self) -> None:
        """Stop the app: agents finish, offsets are committed, hooks run."""
        await self.app.stop()

    def in_flight(self) -> int:
        """Envelopes the agents took and have not answered yet."""
        return self._delivery.in_flight

    def health(self) -> BusHealth:
        """Running, partitions held, rebalancing, consuming (flow not paused)."""
        app = self.app
        return BusHealth(
            running=app.started and not app.should_stop,
            assigned_partitions=len(self.assigned_partitions()),
            rebalancing=bool(app.rebalancing),
            consuming=bool(getattr(app.consumer, "flow_active", True)),
            broker=self.settings.broker_url,
        )

    def assigned_partitions(self) -> set[Partition]:
        """The consumer's assignment (empty before it started)."""
        try:
            return {(tp.topic, tp.partition) for tp in self.app.consumer.assignment()}
        except ConsumerNotStarted:
            return set()

    def offset_source(self) -> OffsetSource:
        """The transport's offsets (the memory broker's, or the Kafka cluster's)."""
        return self.settings.transport.offset_source(self.settings)

    def worker_app(self) -> HostApp:
        """The Faust app: ``faust -A onex_stream worker`` runs it."""
        return self.app

    async def _stop_worker(self, exc: Exception) -> None:
        """Crash the app: its unanswered records stay uncommitted and are delivered again."""
        logger.critical("stopping the worker: %s", exc)
        await self.app.crash(exc)

    async def _send(self, record: Outbound, source: TP | None) -> Awaitable[RecordMetadata]:
        """Hand a record to the producer; the awaitable resolves on broker ack.

        Under exactly_once, a record answering ``source`` goes into the transaction of
        that partition (Faust's transactional id for it), which commits together with its
        offset; ``source=None`` is sent outside any transaction. Otherwise, on Kafka, the
        record joins its partition's batch (:class:`BatchSender`).
        """
        app = self.app
        transaction = None
        if self._in_transaction:
            if source is not None:
                group = app.assignor.group_for_topic(source.topic)
                transaction = f"{app.conf.id}-{group}-{source.partition}"
        elif self._batches is not None and (batched := self._batches.send(record)) is not None:
            return batched
        return await app.producer.send(
            record.topic,
            record.key,
            record.value,
            record.partition,
            None,
            record.headers,
            transactional_id=transaction,
        )


def _scratch_dir(app_id: str) -> str:
    """Faust insists on a data directory; tables live in memory, so a temp one will do."""
    return str(Path(tempfile.gettempdir()) / f"onex_stream-{app_id}")
