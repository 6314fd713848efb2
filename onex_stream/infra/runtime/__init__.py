"""The runtime host process: wiring, the host itself, its entry points' building blocks."""
