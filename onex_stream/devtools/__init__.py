"""Development tools (the demo, test servers); never imported by the runtime host."""
