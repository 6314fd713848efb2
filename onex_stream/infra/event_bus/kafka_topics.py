"""Startup check that a Kafka host's topics exist (topics are never auto-created)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from onex_stream.core.errors import EventBusError


async def missing_topics(bootstrap_servers: str, names: Iterable[str], **auth: Any) -> list[str]:
    """The names in ``names`` that do not exist on the cluster, in the given order."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, **auth)
    try:
        await admin.start()
        existing = set(await admin.list_topics())
    except KafkaError as exc:
        raise EventBusError(
            f"cannot reach Kafka at {bootstrap_servers}: {type(exc).__name__}"
        ) from None
    finally:
        await admin.close()
    return [name for name in names if name not in existing]
