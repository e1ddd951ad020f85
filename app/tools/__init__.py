"""Painting tools: press → drag → release, one undo step per stroke."""
