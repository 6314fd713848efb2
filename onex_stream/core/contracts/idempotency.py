"""``runtime.idempotency`` and which hosted nodes answer a replayed command from memory."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from pydantic import Field

from onex_stream.core.contracts.node_contract import ModelNodeContract
from onex_stream.core.contracts.strict import StrictModel
from onex_stream.core.enums import EnumNodeKind

#: How long an answer is remembered by default: a day.
DEFAULT_WINDOW_SECONDS = 24 * 3600.0
#: Answers remembered per command partition by default: an answer costs its record plus
#: ~270 bytes, so ~10 MiB per partition for 700-byte answers (README, memory figures).
DEFAULT_MAX_ENTRIES_PER_PARTITION = 10_000
#: Node kinds deduplicated unless their binding says otherwise: those with side effects.
IDEMPOTENT_BY_DEFAULT = frozenset({EnumNodeKind.EFFECT})


class ModelIdempotencySettings(StrictModel):
    """``runtime.idempotency``: how long and how many answers each worker remembers.

    An answer is remembered ``window_seconds`` after it was produced; a command replayed
    later is executed again. A partition keeps at most ``max_entries_per_partition``
    answers (the oldest are forgotten first), which bounds the memory of a worker.
    """

    window_seconds: float = Field(default=DEFAULT_WINDOW_SECONDS, gt=0)
    max_entries_per_partition: int = Field(default=DEFAULT_MAX_ENTRIES_PER_PARTITION, ge=1)


def idempotent_nodes(
    nodes: Iterable[ModelNodeContract], overrides: Mapping[str, bool | None]
) -> frozenset[str]:
    """Slugs of the nodes whose commands are deduplicated by envelope_id: EFFECT nodes,
    unless their binding sets ``idempotent`` (``overrides``: slug -> the binding's value)."""
    chosen = set()
    for node in nodes:
        override = overrides.get(node.name)
        default = node.node_type in IDEMPOTENT_BY_DEFAULT
        if default if override is None else override:
            chosen.add(node.name)
    return frozenset(chosen)
