"""Group assignment for a one-member group, driven through the app's Faust partition assignor."""

from __future__ import annotations

from collections.abc import Set
from typing import Any

from faust.types import TP

from .broker import MemoryBroker

#: Member id of the group's only member.
MEMBER_ID = "memory-member"


class _Cluster:
    """The slice of aiokafka's ``ClusterMetadata`` the Faust assignor reads."""

    def __init__(self, broker: MemoryBroker) -> None:
        self._broker = broker

    def partitions_for_topic(self, topic: str) -> set[int] | None:
        count = self._broker.partitions_for(topic)
        return None if count is None else set(range(count))


def assign_all(app: Any, broker: MemoryBroker, topics: Set[str]) -> set[TP]:
    """Assign every partition of ``topics`` to the single member; return the assigned TPs.

    Running ``app.assignor`` (as aiokafka does) records which partitions are active, so table
    recovery restores them from their changelogs.
    """
    assignor = app.assignor
    metadata = assignor.metadata(set(topics))
    assignment = assignor.assign(_Cluster(broker), {MEMBER_ID: metadata})[MEMBER_ID]
    assignor.on_assignment(assignment)
    return {TP(topic, p) for topic, partitions in assignment.assignment for p in partitions}
