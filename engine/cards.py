"""Weights cards (CARD.md): the sections that `app-train eval --card` owns.

Kept apart from training and metrics so that both can write it without importing each other.

A ugen folder is measured on each condition it draws from (`eval --condition`), and its
card keeps one section per condition: the label-map section between the plain eval markers
(as every card has it), another condition's between markers named after it, so a run on one
condition never overwrites another's numbers. (Refusing `--card` for the other conditions
was the alternative; but the edge, sketch and depth mappers ship in the folder and the
studio draws with them, so the card a user reads to pick a model should say how each does.)
"""

from __future__ import annotations

from pathlib import Path

EVAL_BEGIN, EVAL_END = "<!-- eval -->", "<!-- /eval -->"


def eval_markers(condition: str | None = None) -> tuple[str, str]:
    """The markers around the eval section of ``condition`` (None: the label-map section)."""
    if condition is None:
        return EVAL_BEGIN, EVAL_END
    return f"<!-- eval:{condition} -->", f"<!-- /eval:{condition} -->"


def write_card_section(weights: Path | str, markdown: str, condition: str | None = None) -> Path:
    """Replace what lies between the eval markers (of ``condition``, see :func:`eval_markers`)
    of WEIGHTS/CARD.md. Absent markers are added: a condition's right after the label-map
    section when the card has one, else at the end under a heading of their own."""
    from engine.fileio import atomic_write_bytes

    card = Path(weights) / "CARD.md"
    text = card.read_text() if card.is_file() else ""
    begin, end = eval_markers(condition)
    section = f"{begin}\n{markdown}\n{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        text = head + section + rest.split(end, 1)[1]
    elif condition is not None and EVAL_END in text:
        head, rest = text.split(EVAL_END, 1)
        text = head + EVAL_END + "\n\n" + section + rest
    else:
        title = "Measured quality" if condition is None else f"Measured quality, drawn from {condition}"
        text = text.rstrip() + f"\n\n## {title}\n\n" + section + "\n"
    atomic_write_bytes(card, text.encode())
    return card
