"""Decomposing a label map into segments, and the normalised mask grids they are scored on.

RESAIL (Shi et al., CVPR 2022, supplement A.1) retrieves guidance per *segment*: a thing
class contributes one segment per instance; a stuff class contributes its connected
components, of which only the largest ones that together cover ``coverage`` (90 %) of the
class's area are kept — slivers and specks carry no shape worth matching. Both the
database (training images) and the query (a painted map) are decomposed by this module,
so the two sides always agree on what a segment is.

Beyond the paper, segments smaller than ``min_area`` pixels are skipped: landscapes has
~37 trees per image, most of them under 16 pixels, and a guidance patch of a few pixels
says nothing the label map does not (measured in the report of issue 15).
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass, field

import cv2
import numpy as np

Box = tuple[int, int, int, int]
"""Half-open ``(y0, x0, y1, x1)`` in pixels of the map the segment came from."""
SegmentKey = tuple[int, Box, bytes]
"""(class id, box, mask digest): equal keys mean the same class with the same pixels."""

COVERAGE = 0.9  # the official code's preserved_ratio
MIN_AREA = 16  # pixels; see the module docstring
GRID = 32  # side of the normalised mask grid (the paper resizes to 128²; 32² keeps 128 bytes a mask)
CONNECTIVITY = 8  # a diagonal brush stroke stays one segment


@dataclass(eq=False)
class Segment:
    """One segment: its class, where it is, and its pixels inside the box."""

    class_id: int
    thing: bool
    box: Box
    mask: np.ndarray  # bool, (y1 - y0) × (x1 - x0)
    instance: int = 0  # the instance id of a thing segment that came from the instance map
    area: int = field(init=False)
    key: SegmentKey = field(init=False)

    def __post_init__(self) -> None:
        self.mask = np.ascontiguousarray(self.mask, dtype=bool)
        self.area = int(self.mask.sum())
        digest = hashlib.blake2b(np.packbits(self.mask).tobytes(), digest_size=12).digest()
        self.key = (int(self.class_id), tuple(int(v) for v in self.box), digest)  # type: ignore[assignment]

    @property
    def shape(self) -> tuple[int, int]:
        y0, x0, y1, x1 = self.box
        return y1 - y0, x1 - x0


def sample_nearest(mask: np.ndarray, height: int, width: int) -> np.ndarray:
    """``mask`` resized to ``height × width`` by nearest neighbour at pixel centres.

    Output pixel i samples input row ⌊(2i + 1)·h / 2H⌋, in integers, so the database
    and the query grids come out identical for identical masks on any platform, and
    tests can compute them by hand.
    """
    h, w = mask.shape[:2]
    rows = (np.arange(height) * 2 + 1) * h // (2 * height)
    cols = (np.arange(width) * 2 + 1) * w // (2 * width)
    return mask[rows[:, None], cols[None, :]]


def mask_grid(mask: np.ndarray, size: int = GRID) -> np.ndarray:
    """The segment mask stretched to ``size × size`` (the M̂ of the supplement's eq. 3)."""
    return sample_nearest(mask, size, size)


def _coverage_keep(areas: np.ndarray, coverage: float) -> int:
    """How many of ``areas`` (sorted descending) are needed to reach ``coverage`` of their sum."""
    cumulative = np.cumsum(areas)
    # The tolerance keeps "exactly 90 %" from failing on 0.9 · 100 = 90.00000000000001.
    need = coverage * float(cumulative[-1]) * (1 - 1e-9)
    return min(int(np.searchsorted(cumulative, need, side="left")) + 1, len(areas))


def _components(
    class_mask: np.ndarray, class_id: int, thing: bool, coverage: float, min_area: int
) -> list[Segment]:
    """Connected components of one class: all of them for things, the 90 % for stuff."""
    # Labelling only the class's bounding box: a small class costs a small window.
    rows, cols = np.flatnonzero(class_mask.any(1)), np.flatnonzero(class_mask.any(0))
    if rows.size == 0:
        return []
    oy, ox = int(rows[0]), int(cols[0])
    window = np.ascontiguousarray(class_mask[oy : rows[-1] + 1, ox : cols[-1] + 1])
    count, comp, stats, _ = cv2.connectedComponentsWithStats(
        window.view(np.uint8), connectivity=CONNECTIVITY, ltype=cv2.CV_32S
    )
    if count <= 1:
        return []
    areas = stats[1:, cv2.CC_STAT_AREA]
    order = np.argsort(-areas, kind="stable")  # ties stay in raster order: deterministic
    if not thing:
        order = order[: _coverage_keep(areas[order], coverage)]
    out = []
    for j in order:
        if areas[j] < min_area:
            continue
        x, y, w, h = (int(v) for v in stats[j + 1, :4])
        box = (oy + y, ox + x, oy + y + h, ox + x + w)
        out.append(Segment(class_id, thing, box, comp[y : y + h, x : x + w] == j + 1))
    return out


def _instances(
    labels: np.ndarray, instances: np.ndarray, class_mask: np.ndarray, class_id: int, min_area: int
) -> tuple[list[Segment], np.ndarray]:
    """One segment per instance id of a thing class; also the class pixels with no instance."""
    ys, xs = np.nonzero(class_mask & (instances != 0))
    out: list[Segment] = []
    if ys.size:
        ids = instances[ys, xs]
        order = np.argsort(ids, kind="stable")
        ids, ys, xs = ids[order], ys[order], xs[order]
        starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
        counts = np.diff(np.r_[starts, ids.size])
        y0, y1 = np.minimum.reduceat(ys, starts), np.maximum.reduceat(ys, starts) + 1
        x0, x1 = np.minimum.reduceat(xs, starts), np.maximum.reduceat(xs, starts) + 1
        for i in np.argsort(-counts, kind="stable"):
            if counts[i] < min_area:
                continue
            box = (int(y0[i]), int(x0[i]), int(y1[i]), int(x1[i]))
            window = np.s_[box[0] : box[2], box[1] : box[3]]
            mask = (labels[window] == class_id) & (instances[window] == ids[starts[i]])
            out.append(Segment(class_id, True, box, mask, instance=int(ids[starts[i]])))
    return out, class_mask & (instances == 0)


def decompose(
    labels: np.ndarray,
    instances: np.ndarray | None,
    thing_ids: Collection[int],
    *,
    coverage: float = COVERAGE,
    min_area: int = MIN_AREA,
    ignore: Collection[int] = (),
    classes: Collection[int] | None = None,
) -> list[Segment]:
    """The segments of a label map, class by class in ascending id, largest first within a class.

    ``thing_ids`` are the thing classes (``LabelSet`` marks them): each instance id is one
    segment, and thing pixels without an instance (a painted map without instances) split
    into connected components. Stuff classes keep their largest components up to
    ``coverage`` of the class area. ``ignore`` skips classes (the dontcare id);
    ``classes`` restricts the work to some classes (after a stroke, only those it touched).
    """
    if not 0 < coverage <= 1:
        raise ValueError(f"coverage must be in (0, 1], got {coverage}")
    present = np.unique(labels)
    wanted = set(int(c) for c in classes) if classes is not None else None
    things = set(int(c) for c in thing_ids)
    segments: list[Segment] = []
    for cid in (int(c) for c in present):
        if cid in ignore or (wanted is not None and cid not in wanted):
            continue
        class_mask = labels == cid
        if cid in things and instances is not None:
            found, rest = _instances(labels, instances, class_mask, cid, min_area)
            segments += found
            if rest.any():
                segments += _components(rest, cid, True, coverage, min_area)
        else:
            segments += _components(class_mask, cid, cid in things, coverage, min_area)
    return segments
