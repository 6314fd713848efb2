"""ONEX core: envelope, contracts, errors and the pure NodeRuntime (no I/O)."""
