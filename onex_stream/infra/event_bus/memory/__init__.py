"""In-memory Kafka-like broker and the Faust ``memory://`` transport built on it."""

from .broker import MemoryBroker, Record, get_broker, reset_brokers
from .transport import Transport

__all__ = ["MemoryBroker", "Record", "Transport", "get_broker", "reset_brokers"]
