"""Dock panels: palette, tool options, style and variations, history, models."""
