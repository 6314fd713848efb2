"""Command-line entry points (the composition layer above infra)."""
