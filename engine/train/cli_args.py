"""Argument types shared by the app-train commands."""

from __future__ import annotations

import argparse

MAX_SEED = 2**63 - 1
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")


def seed_value(text: str) -> int:
    """A seed: a whole number 0 … 2^63 − 1 (what numpy and torch generators take)."""
    text = text.strip()
    if len(text) > 19 or not text.isdigit() or int(text) > MAX_SEED:
        shown = text if len(text) <= 24 else text[:20] + "…"
        raise argparse.ArgumentTypeError(f"{shown!r} is not a seed: use a whole number from 0 to {MAX_SEED}")
    return int(text)
