"""Observability: JSON logs with envelope context, Prometheus metrics, health, status page."""
