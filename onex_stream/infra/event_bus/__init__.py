"""Event bus transports for the Faust runtime."""
