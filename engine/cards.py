"""Weights cards (CARD.md): the section that `app-train eval --card` owns.

Kept apart from training and metrics so that both can write it without importing each other.
"""

from __future__ import annotations

from pathlib import Path

EVAL_BEGIN, EVAL_END = "<!-- eval -->", "<!-- /eval -->"


def write_card_section(weights: Path | str, markdown: str) -> Path:
    """Replace what lies between the eval markers of WEIGHTS/CARD.md (appending them if absent)."""
    from engine.fileio import atomic_write_bytes

    card = Path(weights) / "CARD.md"
    text = card.read_text() if card.is_file() else ""
    section = f"{EVAL_BEGIN}\n{markdown}\n{EVAL_END}"
    if EVAL_BEGIN in text and EVAL_END in text:
        head, rest = text.split(EVAL_BEGIN, 1)
        text = head + section + rest.split(EVAL_END, 1)[1]
    else:
        text = text.rstrip() + "\n\n## Measured quality\n\n" + section + "\n"
    atomic_write_bytes(card, text.encode())
    return card
