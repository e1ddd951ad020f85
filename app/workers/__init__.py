"""Background workers (synthesis)."""
