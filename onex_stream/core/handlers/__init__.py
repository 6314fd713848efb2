"""Dev/test-only handlers that live in core because they do no I/O."""
