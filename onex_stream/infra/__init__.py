"""Infrastructure adapters: transports, handlers, runtime host and observability."""
