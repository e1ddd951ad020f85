"""How label-set problems are worded: compact id lists, counted nouns, hex colours, name keys.

Shared by the label set, its colour table and the label-map reader, so that every message
about ids and colours reads the same way.
"""

from __future__ import annotations

from collections.abc import Iterable


def norm_name(name: str) -> str:
    """Name key for look-ups: case, underscores and repeated blanks do not matter.

    The CLI and the UI let people type names, and "Traffic_Light" should find "traffic light".
    """
    return " ".join(name.replace("_", " ").lower().split())


def hex_color(key: int) -> str:
    """``#rrggbb`` of a colour packed as ``0xRRGGBB``."""
    return f"#{key:06x}"


def format_ids(ids: Iterable[int]) -> str:
    """Compact id list for messages: ``0..150`` or ``0..181, 255``."""
    out: list[str] = []
    run: list[int] = []
    for i in sorted(ids):
        if run and i == run[-1] + 1:
            run.append(i)
            continue
        if run:
            out.append(f"{run[0]}..{run[-1]}" if len(run) > 2 else ", ".join(map(str, run)))
        run = [i]
    if run:
        out.append(f"{run[0]}..{run[-1]}" if len(run) > 2 else ", ".join(map(str, run)))
    return ", ".join(out)


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 pixel``, ``3 pixels`` (``many`` when the plural is not ``word + "s"``)."""
    return f"{n} {word if n == 1 else (many or word + 's')}"
