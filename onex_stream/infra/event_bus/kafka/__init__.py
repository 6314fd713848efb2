"""Kafka through Faust's aiokafka driver: transport, credentials, admin, and the kind."""
