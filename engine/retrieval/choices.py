"""The painter's guidance choices as data: which database segment guides which region.

The studio keeps these in its document — one undo step per change, saved in projects —
apart from the :class:`~engine.retrieval.Retriever`, which belongs to a loaded model and is
rebuilt with it. Before each image the choices are *resolved* against the map's current
segments and handed to the retriever (:meth:`Retriever.apply`), so the document stays the
only authority and undoing a stroke brings back the choice of the region it had changed.

A choice remembers the segment it was made for (class, box, mask):

- it applies to the segment with the same key (same class, same pixels);
- a *pinned* choice whose segment is gone (repainted) applies to the segment of its class
  that overlaps the remembered mask most — the same rule as the retriever's own carrying
  of pins, computed from the document instead of from the retriever's history, so it
  gives the same answer after undo, redo or reopening a project.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from engine.errors import InputError
from engine.retrieval.segments import Box, Segment, SegmentKey


class Boxed(Protocol):
    box: Box
    mask: np.ndarray


def overlap(a: Boxed, b: Boxed) -> int:
    """Pixels two segments of one map share."""
    y0, x0 = max(a.box[0], b.box[0]), max(a.box[1], b.box[1])
    y1, x1 = min(a.box[2], b.box[2]), min(a.box[3], b.box[3])
    if y0 >= y1 or x0 >= x1:
        return 0
    ma = a.mask[y0 - a.box[0] : y1 - a.box[0], x0 - a.box[1] : x1 - a.box[1]]
    mb = b.mask[y0 - b.box[0] : y1 - b.box[0], x0 - b.box[1] : x1 - b.box[1]]
    return int((ma & mb).sum())


@dataclass(frozen=True, eq=False)
class Choice:
    """Database ``row`` guides the segment ``key`` (made from ``box`` and ``mask``)."""

    key: SegmentKey
    box: Box
    mask: np.ndarray  # bool, box-sized: the segment when the choice was made
    row: int
    pinned: bool = False

    @classmethod
    def of(cls, segment: Segment, row: int, pinned: bool = False) -> Choice:
        return cls(segment.key, segment.box, segment.mask, int(row), bool(pinned))

    @property
    def class_id(self) -> int:
        return self.key[0]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Choice):
            return NotImplemented
        return (self.key, self.row, self.pinned) == (other.key, other.row, other.pinned)

    def __hash__(self) -> int:
        return hash((self.key, self.row, self.pinned))


Choices = tuple[Choice, ...]


def resolve(choices: Sequence[Choice], segments: Sequence[Segment], classes: np.ndarray) -> dict[int, Choice]:
    """Which choice applies to which segment index. ``classes`` holds the database's class
    per row: a row it lacks, or of another class, is ignored (a project made with another
    model's database). Exact keys first; then pinned choices whose segment is gone take the
    free segment of their class that overlaps them most; the newest choice wins a tie."""
    index = {s.key: i for i, s in enumerate(segments)}
    usable = [c for c in choices if 0 <= c.row < len(classes) and int(classes[c.row]) == c.class_id]
    out: dict[int, Choice] = {}
    for c in usable:  # later entries replace earlier ones: the newest choice wins
        if c.key in index:
            out[index[c.key]] = c
    for c in reversed(usable):
        if not c.pinned or c.key in index:
            continue
        best = max(
            ((overlap(c, s), i) for i, s in enumerate(segments) if s.class_id == c.class_id and i not in out),
            default=(0, -1),
        )
        if best[0] > 0:
            out[best[1]] = c
    return out


def with_choice(
    choices: Sequence[Choice],
    segments: Sequence[Segment],
    index: int,
    row: int,
    pinned: bool,
    classes: np.ndarray,
) -> Choices:
    """``choices`` with segment ``index`` guided by ``row`` (pinned or not); whatever guided
    that segment before (its own choice or a pin it inherited) is replaced."""
    replaced = resolve(choices, segments, classes).get(index)
    kept = tuple(c for c in choices if c is not replaced and c.key != segments[index].key)
    return (*kept, Choice.of(segments[index], row, pinned))


# ---------------------------------------------------------------------- JSON (project files)
def choices_to_json(choices: Sequence[Choice]) -> list[dict[str, Any]]:
    """Plain JSON: the mask as base64 of its packed bits (a 256² region is at most 8 KiB)."""
    return [
        {
            "class": c.class_id,
            "box": list(c.box),
            "mask": base64.b64encode(np.packbits(c.mask).tobytes()).decode("ascii"),
            "row": c.row,
            "pinned": c.pinned,
        }
        for c in choices
    ]


def choices_from_json(data: object, source: str | None = None) -> Choices:
    """The inverse of :func:`choices_to_json`; anything malformed is an InputError naming ``source``."""
    fix = "the guidance choices are damaged: open an earlier copy, or delete 'guidance' from scene.json"
    if not isinstance(data, list):
        raise InputError("guidance choices must be a list", source=source, fix=fix)
    out = []
    for n, item in enumerate(data):
        try:
            class_id, box, row = int(item["class"]), tuple(int(v) for v in item["box"]), int(item["row"])
            pinned = item.get("pinned", False)
            bits = np.frombuffer(base64.b64decode(item["mask"], validate=True), np.uint8)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"guidance choice {n} is malformed ({exc})", source=source, fix=fix) from None
        y0, x0, y1, x1 = box if len(box) == 4 else (0, 0, 0, 0)
        h, w = y1 - y0, x1 - x0
        if len(box) != 4 or h <= 0 or w <= 0 or min(y0, x0) < 0 or row < 0 or not isinstance(pinned, bool):
            raise InputError(f"guidance choice {n} has box {box}, row {row}", source=source, fix=fix)
        if bits.size != (h * w + 7) // 8:
            raise InputError(f"guidance choice {n}: the mask does not fit its box", source=source, fix=fix)
        mask = np.unpackbits(bits, count=h * w).reshape(h, w).astype(bool)
        # The key is recomputed, not stored: it is a digest of exactly these pixels.
        out.append(Choice.of(Segment(class_id, False, box, mask), row, pinned))  # type: ignore[arg-type]
    return tuple(out)
