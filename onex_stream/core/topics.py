"""Topic names: ``onex.<tenant>.<domain>.<signal>.v<N>`` and the names derived from them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

RESERVED_TENANTS = frozenset({"internal", "debug", "metrics", "health", "admin"})
_SEGMENT = r"[a-z0-9][a-z0-9_-]*"
TOPIC_PATTERN = re.compile(
    rf"^onex\.(?P<tenant>{_SEGMENT})\.(?P<domain>{_SEGMENT})\.(?P<signal>[a-z]+)\.v(?P<version>[0-9]+)$"
)


class EnumTopicSignal(StrEnum):
    """What a topic carries."""

    CMD = "cmd"
    EVT = "evt"
    STATE = "state"
    ERROR = "error"
    LOG = "log"


class TopicNameError(ValueError):
    """A topic name breaks the naming schema; the message says which rule."""


@dataclass(frozen=True, slots=True)
class TopicName:
    """A parsed, valid topic name."""

    tenant: str
    domain: str
    signal: EnumTopicSignal
    version: int

    def __str__(self) -> str:
        return f"onex.{self.tenant}.{self.domain}.{self.signal.value}.v{self.version}"

    def with_signal(self, signal: EnumTopicSignal) -> TopicName:
        """The sibling topic with another signal (``cmd`` -> ``evt``, ``error``)."""
        return TopicName(self.tenant, self.domain, signal, self.version)


def parse_topic(name: str) -> TopicName:
    """Parse and validate ``name``; raises ``TopicNameError`` naming the broken rule."""
    match = TOPIC_PATTERN.match(name)
    if match is None:
        raise TopicNameError(_why_invalid(name))
    signal = match.group("signal")
    if signal not in EnumTopicSignal.__members__.values():
        allowed = ", ".join(s.value for s in EnumTopicSignal)
        raise TopicNameError(f"topic {name!r}: signal {signal!r} must be one of {allowed}")
    tenant = match.group("tenant")
    if tenant in RESERVED_TENANTS:
        raise TopicNameError(f"topic {name!r}: tenant {tenant!r} is a reserved namespace")
    return TopicName(tenant, match.group("domain"), EnumTopicSignal(signal), int(match["version"]))


def _why_invalid(name: str) -> str:
    segments = name.split(".")
    if not name.startswith("onex."):
        return f"topic {name!r} must start with 'onex.'"
    if len(segments) != 5:
        return f"topic {name!r} must have 5 segments: onex.<tenant>.<domain>.<signal>.v<N>"
    if any(not s for s in segments):
        return f"topic {name!r} has an empty segment"
    if not re.fullmatch(r"v[0-9]+", segments[4]):
        return f"topic {name!r}: version segment must be 'v' followed by digits"
    return f"topic {name!r}: segments must match [a-z0-9][a-z0-9_-]* (lowercase)"


def event_topic_for(command_topic: str) -> str:
    """The event topic answering a command topic: ``cmd`` -> ``evt``."""
    return str(parse_topic(command_topic).with_signal(EnumTopicSignal.EVT))


def dead_letter_topic_for(command_topic: str) -> str:
    """The dead-letter topic of a command topic: ``cmd`` -> ``error``."""
    return str(parse_topic(command_topic).with_signal(EnumTopicSignal.ERROR))
