"""The painter's guidance choices as data: which database segment guides which region.

The studio keeps these in its document — one undo step per change, saved in projects —
apart from the :class:`~engine.retrieval.Retriever`, which belongs to a loaded model and is
rebuilt with it. Before each image the choices are *resolved* against the map's current
segments and handed to the retriever (:meth:`Retriever.apply`), so the document stays the
only authority and undoing a stroke brings back the choice of the region it had changed.

A choice is a database row, or a *patch*: a segment of the painter's own photo (dropped
onto the region), carried with its pixels. A choice remembers the segment it was made for
(class, box, mask):

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

import cv2
import numpy as np

from engine.errors import InputError
from engine.retrieval.segments import Box, Segment, SegmentKey, decompose, mask_grid


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
class Patch:
    """A segment of a photo the painter supplied: its crop and mask (box-sized) and a name."""

    rgb: np.ndarray  # h×w×3 uint8
    mask: np.ndarray  # h×w bool
    source: str

    def same(self, other: Patch) -> bool:
        return (
            self.source == other.source
            and np.array_equal(self.rgb, other.rgb)
            and np.array_equal(self.mask, other.mask)
        )


@dataclass(frozen=True, eq=False)
class Choice:
    """Database ``row`` (or ``patch``, with row −1) guides the segment ``key`` (made from
    ``box`` and ``mask``)."""

    key: SegmentKey
    box: Box
    mask: np.ndarray  # bool, box-sized: the segment when the choice was made
    row: int
    pinned: bool = False
    patch: Patch | None = None

    @classmethod
    def of(cls, segment: Segment, row: int, pinned: bool = False, patch: Patch | None = None) -> Choice:
        return cls(segment.key, segment.box, segment.mask, -1 if patch else int(row), bool(pinned), patch)

    @property
    def class_id(self) -> int:
        return self.key[0]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Choice):
            return NotImplemented
        same = (self.key, self.row, self.pinned) == (other.key, other.row, other.pinned)
        if self.patch is None or other.patch is None:
            return same and self.patch is other.patch
        return same and self.patch.same(other.patch)

    def __hash__(self) -> int:
        return hash((self.key, self.row, self.pinned))


Choices = tuple[Choice, ...]


def resolve(choices: Sequence[Choice], segments: Sequence[Segment], classes: np.ndarray) -> dict[int, Choice]:
    """Which choice applies to which segment index. ``classes`` holds the database's class
    per row: a row it lacks, or of another class, is ignored (a project made with another
    model's database). Exact keys first; then pinned choices whose segment is gone take the
    free segment of their class that overlaps them most; the newest choice wins a tie."""
    index = {s.key: i for i, s in enumerate(segments)}
    usable = [
        c
        for c in choices
        if c.patch is not None or (0 <= c.row < len(classes) and int(classes[c.row]) == c.class_id)
    ]
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
    patch: Patch | None = None,
) -> Choices:
    """``choices`` with segment ``index`` guided by ``row`` (or ``patch``), pinned or not;
    whatever guided that segment before (its own choice or a pin it inherited) is replaced."""
    replaced = resolve(choices, segments, classes).get(index)
    kept = tuple(c for c in choices if c is not replaced and c.key != segments[index].key)
    return (*kept, Choice.of(segments[index], row, pinned, patch))


def photo_patch(
    photo: np.ndarray,
    labels: np.ndarray,
    segment: Segment,
    things: list[int],
    source: str,
    *,
    coverage: float,
    min_area: int,
) -> Patch | None:
    """The segment of a (segmented) photo that guides ``segment``: of its class, the one whose
    normalised mask differs least from the segment's (ties: the larger). None: the photo has
    no segment of that class."""
    found = decompose(labels, None, things, coverage=coverage, min_area=min_area, classes={segment.class_id})
    found = [s for s in found if s.class_id == segment.class_id]
    if not found:
        return None
    want = mask_grid(segment.mask)
    best = min(found, key=lambda s: (int((mask_grid(s.mask) ^ want).sum()), -s.area))
    y0, x0, y1, x1 = best.box
    return Patch(np.ascontiguousarray(photo[y0:y1, x0:x1]), best.mask.copy(), source)


# ---------------------------------------------------------------------- JSON (project files)
def choices_to_json(choices: Sequence[Choice]) -> list[dict[str, Any]]:
    """Plain JSON: the mask as base64 of its packed bits (a 256² region is at most 8 KiB)."""
    return [_choice_json(c) for c in choices]


def _bits(mask: np.ndarray) -> str:
    return base64.b64encode(np.packbits(mask).tobytes()).decode("ascii")


def _unbits(text: str, h: int, w: int) -> np.ndarray | None:
    bits = np.frombuffer(base64.b64decode(text, validate=True), np.uint8)
    if bits.size != (h * w + 7) // 8:
        return None
    return np.unpackbits(bits, count=h * w).reshape(h, w).astype(bool)


def _choice_json(c: Choice) -> dict[str, Any]:
    out: dict[str, Any] = {"class": c.class_id, "box": list(c.box), "mask": _bits(c.mask), "row": c.row}
    out["pinned"] = c.pinned
    if c.patch is not None:  # the photo's pixels travel with the project: PNG, lossless
        ok, png = cv2.imencode(".png", np.ascontiguousarray(c.patch.rgb[:, :, ::-1]))
        if not ok:
            raise ValueError("a photo patch does not encode as PNG")
        out["patch"] = {
            "png": base64.b64encode(png.tobytes()).decode("ascii"),
            "mask": _bits(c.patch.mask),
            "source": c.patch.source,
        }
    return out


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
            y0, x0, y1, x1 = box if len(box) == 4 else (0, 0, 0, 0)
            h, w = y1 - y0, x1 - x0
            if len(box) != 4 or h <= 0 or w <= 0 or min(y0, x0) < 0 or not isinstance(pinned, bool):
                raise ValueError(f"box {box}, pinned {pinned!r}")
            mask = _unbits(item["mask"], h, w)
            if mask is None:
                raise ValueError("the mask does not fit its box")
            patch = _patch_from_json(item["patch"]) if "patch" in item else None
            if patch is None and row < 0:
                raise ValueError(f"row {row}")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise InputError(f"guidance choice {n} is malformed ({exc})", source=source, fix=fix) from None
        # The key is recomputed, not stored: it is a digest of exactly these pixels.
        out.append(Choice.of(Segment(class_id, False, box, mask), row, pinned, patch))  # type: ignore[arg-type]
    return tuple(out)


def _patch_from_json(item: dict[str, Any]) -> Patch:
    png = np.frombuffer(base64.b64decode(item["png"], validate=True), np.uint8)
    bgr = cv2.imdecode(png, cv2.IMREAD_COLOR) if png.size else None
    if bgr is None:
        raise ValueError("the photo patch is not a PNG")
    mask = _unbits(item["mask"], *bgr.shape[:2])
    if mask is None:
        raise ValueError("the photo patch's mask does not fit it")
    return Patch(np.ascontiguousarray(bgr[:, :, ::-1]), mask, str(item.get("source", "photo")))
