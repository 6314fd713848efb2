"""In-memory Kafka-like broker and the Faust ``memory://`` transport built on it."""

from .broker import BrokerRefusedError, MemoryBroker, Record, get_broker, reset_brokers
from .transport import Transport

__all__ = [
    "BrokerRefusedError",
    "MemoryBroker",
    "Record",
    "Transport",
    "get_broker",
    "reset_brokers",
]
